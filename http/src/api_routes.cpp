#include "orch/http/api_routes.hpp"

#include <stdexcept>

#include "orch/http/configuration_routes.hpp"
#include "orch/http/deployment_routes.hpp"
#include "orch/http/orphan_routes.hpp"
#include "orch/http/template_routes.hpp"

namespace orch::http {

void add_api_routes(gateway& gw, const api_dependencies& deps) {
  add_template_routes(gw, deps.templates, deps.blocking, deps.limits);
  if (deps.engine != nullptr) {
    if (deps.events == nullptr)
      throw std::invalid_argument("the deployment routes need an event feed");
    deployment_routes_config cfg;
    cfg.regions = deps.cloud_regions;
    cfg.limits = deps.limits;
    add_deployment_routes(
      gw, {deps.deployments, deps.templates, *deps.engine, deps.blocking, *deps.events},
      std::move(cfg));
    if (deps.configuration_runs != nullptr)
      add_configuration_routes(
        gw, {deps.deployments, *deps.configuration_runs, *deps.engine, deps.blocking});
  }
  if (deps.orphans != nullptr) add_orphan_routes(gw, *deps.orphans);
  add_openapi_route(gw);
}

} // namespace orch::http
