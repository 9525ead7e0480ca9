#pragma once

#include <memory>

#include "orch/persistence/deployment_repository.hpp"
#include "orch/persistence/pool.hpp"

namespace orch::persistence {

/// A `deployment_repository` over the `deployments`, `deployment_events`,
/// `deployment_snapshots` and `idempotency_keys` tables, borrowing connections from `db` (which
/// must outlive it). Thread-safe.
std::unique_ptr<deployment_repository> make_pg_deployment_repository(pool& db);

} // namespace orch::persistence
