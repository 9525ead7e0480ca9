#pragma once

#include "orch/http/blocking_pool.hpp"
#include "orch/http/gateway.hpp"
#include "orch/persistence/template_repository.hpp"

namespace orch::http {

/// What the API's route handlers need; everything must outlive the server.
struct api_dependencies {
  persistence::template_repository& templates;
  /// Runs the handlers' blocking repository calls off the I/O threads.
  blocking_pool& blocking;
};

/// Adds every route of the REST API (API.md) that this build serves to `gw`, on top of the
/// gateway's built-in `/health`, `/health/ready` and `/metrics`. The one place that lists them,
/// so the orchestrator and the OpenAPI consistency test see the same table.
void add_api_routes(gateway& gw, const api_dependencies& deps);

} // namespace orch::http
