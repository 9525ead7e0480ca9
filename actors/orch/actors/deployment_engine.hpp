#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "orch/ansible/inventory.hpp"
#include "orch/deployment/model.hpp"
#include "orch/persistence/configuration_run_repository.hpp"
#include "orch/uuid.hpp"

namespace orch::actors {

/// Calls back once, from any thread, with a value or an `orch` error.
template <class T>
using engine_callback = std::function<void(caf::expected<T>)>;

/// An update or scale the gateway checked and resolved (`PATCH /deployments/{id}`,
/// `POST /deployments/{id}/scale`).
struct deployment_change {
  /// `update` or `scale`.
  operation_type type = operation_type::update;
  /// The whole parameter set after the change.
  deployment_parameters parameters;
  /// The resolved template with `parameters` applied.
  template_spec spec;
  /// The state version (seq of the newest event) the change was planned on: if the deployment
  /// moved on since, the change is refused. `nullopt` applies it to the current state.
  std::optional<int64_t> if_match;
};

/// What `POST /deployments/{id}/configure` asks for.
struct configure_request {
  /// A bare playbook file name in `ANSIBLE_PLAYBOOK_DIR`.
  std::string playbook;
  /// Hosts to run on; without, one group per VM group of the deployment.
  std::optional<ansible::inventory> inventory;
  /// A JSON object handed to the playbook as extra variables.
  std::string extra_vars = "{}";
};

/// What the HTTP gateway asks of the actor system. Reads (GET, lists, history) go to
/// PostgreSQL directly, so they always show what is stored; the engine only moves deployments
/// forward. Implemented by the deployment actors (`spawn_deployment_engine`); thread-safe.
class deployment_engine {
public:
  virtual ~deployment_engine() = default;

  /// Starts (or resumes) the work of a stored deployment, e.g. one just created as PENDING.
  /// Idempotent: a deployment whose actor already runs is left alone. Fire and forget.
  virtual void start(const uuid& id) = 0;

  /// Starts deleting the deployment: cancels a running operation, records DELETING and
  /// answers with the record as stored after that. Errors: `not_found` (unknown or DELETED),
  /// `store_unavailable`, `unavailable` (the engine is shutting down).
  virtual void remove(const uuid& id, engine_callback<deployment_record> done) = 0;

  /// Starts an update or a scale of a COMPLETED or FAILED deployment: records the new desired
  /// state, UPDATING or SCALING, and answers with the record as stored after that. Errors:
  /// `not_found` (unknown or DELETED), `conflict` (an operation runs; the detail names it),
  /// `precondition_failed` (`change.if_match` is not the current version),
  /// `store_unavailable`, `unavailable`.
  virtual void update(const uuid& id, deployment_change change,
                      engine_callback<deployment_record> done)
    = 0;

  /// Runs a playbook against the VMs of a COMPLETED deployment: records the `configure`
  /// operation and CONFIGURING, then answers with the run as recorded (`running`) while
  /// ansible-runner works; the deployment returns to COMPLETED, or FAILED naming the failing
  /// hosts and task. Errors: `not_found`, `conflict` (another operation runs, or the status
  /// does not allow it), `invalid_spec` (playbook name or unknown playbook, inventory),
  /// `unavailable` (configuration runs not set up, or the engine cannot answer now).
  virtual void configure(const uuid& id, configure_request req,
                         engine_callback<persistence::configuration_run> done);
};

} // namespace orch::actors
