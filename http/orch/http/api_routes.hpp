#pragma once

#include <string>
#include <vector>

#include "orch/actors/deployment_engine.hpp"
#include "orch/actors/orphan_finder.hpp"
#include "orch/http/blocking_pool.hpp"
#include "orch/http/event_feed.hpp"
#include "orch/http/gateway.hpp"
#include "orch/persistence/configuration_run_repository.hpp"
#include "orch/persistence/deployment_repository.hpp"
#include "orch/persistence/template_repository.hpp"

namespace orch::http {

/// What the API's route handlers need; everything must outlive the server.
struct api_dependencies {
  persistence::template_repository& templates;
  /// Runs the handlers' blocking repository calls off the I/O threads.
  blocking_pool& blocking;
  /// Deployments, their events and idempotency keys.
  persistence::deployment_repository& deployments;
  /// The actor system's deployment engine; null serves no deployment routes (a build whose
  /// engine is not wired yet).
  actors::deployment_engine* engine = nullptr;
  /// The regions a deployment may name (`OPENSTACK_REGION`).
  std::vector<std::string> cloud_regions{"RegionOne"};
  /// Lists and deletes orphaned cloud resources; null serves no orphan routes.
  actors::orphan_finder* orphans = nullptr;
  /// `MAX_VM_GROUPS_PER_DEPLOYMENT`, `MAX_VMS_PER_DEPLOYMENT`: templates and resolved
  /// deployments over them are refused with 422.
  template_limits limits{};
  /// Serves the deployments' event streams; required with `engine`.
  event_feed* events = nullptr;

  /// Ansible configuration runs; null serves no configuration routes.
  persistence::configuration_run_repository* configuration_runs = nullptr;
};

/// Adds every route of the REST API (API.md) that this build serves to `gw`, on top of the
/// gateway's built-in `/health`, `/health/ready` and `/metrics`. The one place that lists them,
/// so the orchestrator and the OpenAPI consistency test see the same table. Throws
/// `std::invalid_argument` for an `engine` without `events`.
void add_api_routes(gateway& gw, const api_dependencies& deps);

} // namespace orch::http
