#pragma once

#include <string_view>
#include <variant>

#include "orch/actors/deployment_engine.hpp"
#include "orch/http/blocking_pool.hpp"
#include "orch/http/gateway.hpp"
#include "orch/persistence/configuration_run_repository.hpp"
#include "orch/persistence/deployment_repository.hpp"
#include "orch/schemas/template_json.hpp"

namespace orch::http {

/// Parses the body of `POST /deployments/{id}/configure`: `{"playbook": "<file>.yml",
/// "inventory": {"<group>": ["<addr>", ...]}, "extra_vars": {...}}`, `inventory` and
/// `extra_vars` optional (`extra_vars` is kept as compact JSON text). Not JSON or not an object:
/// `errc::malformed_request`; a missing or mistyped field, an unknown one or a playbook that is
/// not a bare `.yml`/`.yaml` file name: `errc::invalid_spec` with `errors[]`. Pure.
std::variant<actors::configure_request, schemas::request_error>
parse_configure_request(std::string_view body);

/// The JSON of a configuration run: `{"id", "deployment_id", "playbook", "inventory",
/// "extra_vars", "status", "hosts": {"<host>": {"ok", "changed", "failed", "unreachable",
/// "skipped"}}, "changed", "failed_task", "started_at", "finished_at"[, "output"]}`.
std::string to_run_json(const persistence::configuration_run& run, bool with_output);

/// What the configuration routes need; everything must outlive the server.
struct configuration_routes_dependencies {
  persistence::deployment_repository& deployments;
  persistence::configuration_run_repository& runs;
  actors::deployment_engine& engine;
  blocking_pool& blocking;
};

/// Adds the configuration routes (API.md, "Configure"):
/// - `POST /deployments/{id}/configure` → `engine.configure` → 202 `{"deployment_id",
///   "status": "CONFIGURING", "run_id"}`; 400 (not JSON), 404, 409 (another operation runs, or
///   the deployment is not COMPLETED), 422 (playbook name, unknown playbook, inventory), 503
///   (configuration runs not set up).
/// - `GET /deployments/{id}/configurations?limit=&offset=` → 200 `{"items", "total", "limit",
///   "offset"}`, newest first, each with its per-host summary, without output.
/// - `GET /deployments/{id}/configurations/{run_id}` → 200, one run with its bounded output.
void add_configuration_routes(gateway& gw, const configuration_routes_dependencies& deps);

} // namespace orch::http
