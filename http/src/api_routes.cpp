#include "orch/http/api_routes.hpp"

#include "orch/http/template_routes.hpp"

namespace orch::http {

void add_api_routes(gateway& gw, const api_dependencies& deps) {
  add_template_routes(gw, deps.templates, deps.blocking);
  add_openapi_route(gw);
}

} // namespace orch::http
