#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include <caf/expected.hpp>

#include "orch/deployment/model.hpp"
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
};

} // namespace orch::actors
