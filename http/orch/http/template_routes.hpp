#pragma once

#include "orch/http/blocking_pool.hpp"
#include "orch/http/gateway.hpp"
#include "orch/persistence/template_repository.hpp"
#include "orch/template_validation.hpp"

namespace orch::http {

/// Adds the template routes of API.md to `gw`:
/// - `POST /templates` → 201 with the stored template and `Location`; 400, 409 (name taken), 422
/// - `GET /templates?limit=&offset=` → 200 `{"items","total","limit","offset"}`; 422 for a bad
///   `limit` (1..500) or `offset` (>= 0)
/// - `GET /templates/{id_or_name}` → 200; 404
/// - `PUT /templates/{id_or_name}` → 200 with the replaced template; 404, 409, 422
/// - `DELETE /templates/{id_or_name}` → 204; 404, 409 while a live deployment uses it
/// Repository calls run on `pool`; a database outage answers 503 with `Retry-After`. A template
/// over `limits` is a 422. `repo` and `pool` must outlive the gateway's server.
void add_template_routes(gateway& gw, persistence::template_repository& repo, blocking_pool& pool,
                         template_limits limits = {});

/// Adds `GET /openapi.json`, the OpenAPI 3.1 document of the API.
void add_openapi_route(gateway& gw);

} // namespace orch::http
