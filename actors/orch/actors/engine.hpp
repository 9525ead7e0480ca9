#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "orch/actors/actor_metrics.hpp"
#include "orch/actors/cloud_commands.hpp"
#include "orch/actors/deployment_engine.hpp"
#include "orch/actors/playbook_runner.hpp"
#include "orch/deployment/restart_budget.hpp"
#include "orch/persistence/deployment_repository.hpp"
#include "orch/time.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace orch::actors {

/// How long a deployment waits for the answer of one cloud command before it counts the answer
/// as lost (a watchdog: the cloud side has deadlines of its own and answers `timeout` first;
/// these only fire when an answer never comes). Each should exceed the cloud side's deadline.
struct command_deadlines {
  /// Creates, links, lookups (the cloud retries transient failures up to its own deadline).
  std::chrono::milliseconds create{360'000};
  /// `wait_server_active` (`VM_BOOT_TIMEOUT` on the cloud side).
  std::chrono::milliseconds wait_server{660'000};
  /// Volume waits, attaches and detaches (`VOLUME_TIMEOUT`).
  std::chrono::milliseconds volume{360'000};
  /// Deletes and unlinks (`DELETE_TIMEOUT`).
  std::chrono::milliseconds remove{360'000};
  /// A command whose answer is lost is sent again this many times (it is idempotent: the cloud
  /// reconciles by tag), then fails its step with `timeout`.
  int reissues = 2;
};

/// Settings of the deployment engine.
struct engine_config {
  /// Store actors in front of the repository (`DATABASE_POOL_SIZE`).
  std::size_t store_workers = 4;
  /// Store actors are `caf::detached` (own thread each) because the PostgreSQL repository
  /// blocks. Unit tests with an in-memory repository turn this off to stay deterministic.
  bool detached_store = true;
  /// Cloud commands a deployment runs at the same time at most. Waits for a server or volume
  /// and volume attaches and detaches (which end in such a wait) are not counted: they cost
  /// the cloud next to nothing while they last, and one batched poller serves them all.
  std::size_t max_parallel_commands = 8;
  /// Deployment actors running at once at most (`MAX_ACTIVE_DEPLOYMENTS`). Further starts wait
  /// in a queue, in order, and run as actors stop: a burst of accepted deployments is worked
  /// through at the node's pace instead of starting all at once and starving the API. Deletes
  /// and restarts after a crash do not wait.
  std::size_t max_active_deployments = 1000;
  /// A deployment with nothing to do stops its actor after this long (passivation).
  std::chrono::milliseconds idle_timeout{30'000};
  /// Delay before a failed (not fenced) write is tried again.
  std::chrono::milliseconds store_retry_delay{1'000};
  /// A deployment actor that cannot claim or load its deployment because the database is
  /// unavailable tries again after this, doubling up to `start_retry_max_delay`. Such waits
  /// are not crashes: they never spend the restart budget.
  std::chrono::milliseconds start_retry_delay{500};
  std::chrono::milliseconds start_retry_max_delay{30'000};
  /// Every this long the manager lists the unfinished deployments and starts those without a
  /// live actor (a failed listing is retried sooner); zero turns the sweep off.
  std::chrono::milliseconds resume_sweep_interval{30'000};
  /// Lost answers of cloud commands (see `command_deadlines`).
  command_deadlines deadlines;
  /// Marks every resource the engine creates (`orch-installation`); empty marks none.
  std::string installation_id;
  /// Timeout of every request to a store actor.
  std::chrono::milliseconds store_timeout{60'000};
  /// A snapshot is written at every status change and every this many events.
  int64_t snapshot_every = 50;
  /// Restarts of a crashed child (VM, network, volume) actor per deployment.
  restart_budget_config child_restarts;
  /// Restarts of a crashed deployment actor. Once spent, the deployment's running operation is
  /// ended as FAILED (`actor_crashed`, with the last crash reason).
  restart_budget_config deployment_restarts;
  /// Start every unfinished deployment of the repository when the engine starts (those whose
  /// lease `lease` may take: free, this node's, or expired).
  bool resume_unfinished = true;
  /// This node's name and the length of the leases its deployment actors claim. Without a
  /// cluster the one node keeps its name across restarts (`NODE_ID`, default host name and
  /// port), so it takes its own leases back at once.
  persistence::lease_terms lease{"local", std::chrono::milliseconds{10'000}};
  /// Fault injection for tests: the n-th command (1-based, counted over the engine) handed to
  /// a child actor makes that child throw before it acts; 0 never.
  int crash_child_on_command = 0;
  /// With `crash_child_on_command`: this many consecutive commands crash their child.
  int crash_child_times = 1;
  /// Fault injection for tests: the n-th deployment actor start (1-based) throws after
  /// loading; 0 never.
  int crash_deployment_on_start = 0;
  /// With `crash_deployment_on_start`: this many consecutive starts crash.
  int crash_deployment_times = 1;
  /// Wall-clock time stamped on events; the system clock unless set.
  std::function<timestamp()> wall_clock;
};

/// What the engine works with. The repository, the clouds and the metrics must outlive the
/// engine's actors (`caf::actor_system::await_all_actors_done` after destroying the engine).
struct engine_deps {
  persistence::deployment_repository& repository;
  /// Region name -> its cloud. A deployment whose region is not listed uses the only cloud if
  /// there is exactly one, else fails its steps with `invalid_config`.
  std::map<std::string, std::shared_ptr<cloud_commands>> clouds;
  /// Optional.
  actor_metrics* metrics = nullptr;
  /// Configuration runs: where they are recorded and what runs them. Both or neither; without
  /// them `configure` answers `unavailable`.
  persistence::configuration_run_repository* configuration_runs = nullptr;
  std::shared_ptr<playbook_runner> runner = nullptr;
};

/// What the cluster (orch_cluster) asks of a node's engine besides the gateway's requests:
/// which deployments have an actor here, and stopping those whose lease the node lost.
class node_engine : public deployment_engine {
public:
  /// Ids of the deployments whose actor runs (or is queued to start) on this node.
  virtual void running(engine_callback<std::vector<uuid>> done) = 0;

  /// Stops the actors of `ids` at once, without a restart: their leases are lost (another node
  /// claimed them, so their writes are fenced anyway). Results of their cloud commands still
  /// in flight reach no one and are never recorded.
  virtual void stop(std::vector<uuid> ids) = 0;

  /// Stops every deployment actor (queued starts too), without a restart: the node cannot
  /// renew its leases and must stop acting before they run out.
  virtual void stop_all() = 0;
};

/// Spawns the node's deployment manager (supervisor of one actor per running deployment), its
/// store pool and one cloud actor per region, and starts every unfinished deployment if
/// `resume_unfinished`. Destroying the result sends an exit to all of them; the caller then
/// lets the actor system wait for them.
std::unique_ptr<node_engine> spawn_deployment_engine(caf::actor_system& sys, engine_config cfg,
                                                     engine_deps deps);

} // namespace orch::actors
