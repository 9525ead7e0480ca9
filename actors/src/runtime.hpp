#pragma once

// What every actor of one deployment engine shares, and the spawn functions between the
// engine's source files.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "messages.hpp"
#include "orch/actors/engine.hpp"

namespace orch::actors {

/// Shared by the manager and the deployment actors of one engine. Holds handles of the store
/// and cloud actors, which hold nothing of it: no reference cycle. The manager supervises the
/// store and cloud actors and replaces a crashed one here, hence the mutex.
struct engine_context {
  engine_config cfg;
  actor_metrics* metrics = nullptr;
  mutable std::mutex actors_mtx;
  std::vector<caf::actor> stores;
  std::map<std::string, caf::actor> clouds;
  std::atomic<size_t> next_store{0};
  /// What a replacement store or cloud actor is spawned over.
  persistence::deployment_repository* repository = nullptr;
  std::map<std::string, std::shared_ptr<cloud_commands>> cloud_impls;
  /// Commands handed to child actors so far (fault injection).
  std::atomic<int> child_commands{0};
  /// Runs playbooks and records their runs (detached); null without configuration runs.
  caf::actor configurator;
  /// What the configurator runs playbooks with, for the deployment actors' checks.
  std::shared_ptr<playbook_runner> runner;
  /// Deployment actor starts so far (fault injection).
  std::atomic<int> deployment_starts{0};

  timestamp now() const;

  /// The next store actor, round robin.
  caf::actor store();

  /// The cloud of `region`; null if none fits.
  caf::actor cloud_for(const std::string& region) const;
};

using context_ptr = std::shared_ptr<engine_context>;

/// The wait before the next try after `failures` failed ones while the database is away:
/// `start_retry_delay`, doubling, at most `start_retry_max_delay`.
inline std::chrono::milliseconds store_backoff(const engine_config& cfg, int failures) {
  auto delay = cfg.start_retry_delay;
  for (int i = 0; i < failures && delay < cfg.start_retry_max_delay; ++i) delay *= 2;
  return std::min(delay, cfg.start_retry_max_delay);
}

/// Spawns the configurator: a detached actor (it blocks on the run repository) that records a
/// run, hands it to `runner` and, when the run ends, records its result and tells the
/// deployment actor with `(configured_atom, run id, failed, message)`.
/// - `(configure_atom, configuration_run, caf::actor deployment)` -> the run as recorded
/// - `(cancel_atom, uuid run)`: stops a run (it then ends `cancelled`)
/// - `(interrupt_atom, uuid deployment)`: the deployment's running run was cut by a restart:
///   records it failed and stops it if it still runs here
/// `detached` is `engine_config::detached_store`: unit tests with in-memory stores keep the
/// configurator on the test scheduler.
caf::actor spawn_configurator(caf::actor_system& sys,
                              persistence::configuration_run_repository& runs,
                              std::shared_ptr<playbook_runner> runner, actor_metrics* metrics,
                              bool detached);

/// Spawns the actor of one deployment: it claims the deployment, loads it, runs its state
/// machine until nothing is left to do and then passivates. Answers `(delete_atom)` with the
/// `deployment_record` as stored once DELETING is committed.
///
/// With `give_up`, the actor only ends the running operation as FAILED with that reason (its
/// supervisor's restart budget for it is spent) instead of carrying it on.
caf::actor spawn_deployment(caf::actor_system& sys, context_ptr ctx, uuid id,
                            std::optional<std::string> give_up = std::nullopt);

} // namespace orch::actors
