#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "orch/actors/engine.hpp"
#include "orch/cluster/lease_policy.hpp"
#include "orch/persistence/cluster_repository.hpp"

namespace prometheus {
class Registry;
class Gauge;
} // namespace prometheus

namespace orch::cluster {

/// Who this node is and how it keeps its leases.
struct membership_config {
  /// `NODE_ID`; the engine's leases carry the same name.
  std::string node_id;
  /// `host:port` of the node's REST API, shown in `GET /cluster`.
  std::string api_address;
  lease_timing timing;
  /// The monotonic clock judging the node's own leases; the steady clock unless set (tests).
  std::function<lease_guard::clock::time_point()> clock;
};

/// What `readiness` reports.
struct membership_health {
  bool ok = false;
  std::string detail;
};

/// A node's membership: every heartbeat it reports itself in `cluster_nodes`, renews its
/// leases in one batch, stops the deployment actors whose lease another node holds now, and
/// starts the deployments it may take (expired leases of dead or departed nodes). When it cannot
/// renew for nearly a lease period it stops every deployment actor, before others may take
/// them. Runs on a thread of its own (the repository blocks).
class membership {
public:
  /// `repo` and `engine` must outlive `stop()`; `registry` (optional) gets `cluster_nodes` and
  /// `cluster_leases_held`.
  membership(membership_config cfg, persistence::cluster_repository& repo,
             actors::node_engine& engine, prometheus::Registry* registry = nullptr);

  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  /// Stops the thread if it still runs.
  ~membership();

  /// Sends the first heartbeat (so that the node is a member when it starts serving), then
  /// heartbeats on a thread of its own.
  void start();

  /// Stops heartbeating and waits for the thread. The leases stay until they run out or
  /// `leave` frees them. Call before the engine goes away.
  void stop();

  /// Hands the node's leases over (SIGTERM): frees them and marks the node left, so other nodes
  /// take its busy deployments at their next heartbeat. Call after `stop()` and after the
  /// engine's actors are gone, so nothing of this node acts on them any more. Returns how many
  /// leases were handed over.
  caf::expected<int64_t> leave();

  /// One heartbeat, as the thread runs it every `timing.heartbeat` (for tests).
  void beat();

  /// `ok` while the last renewal is recent; else why not. Never blocks.
  membership_health readiness() const;

  /// `readiness`, but when it is not ok and the thread runs, first asks for a heartbeat now and
  /// waits up to `patience` for it, so that a node whose database just came back reads ready
  /// at once (`/health/ready`, check `cluster`). Blocks.
  membership_health fresh_readiness(std::chrono::milliseconds patience);

  /// Whether the node stopped acting because it could not renew its leases.
  bool fenced() const;

  /// `GET /cluster` as JSON: this node's id, the live node count and every node of
  /// `cluster_nodes` with its state (`live`, `silent`, `left`), heartbeat age, running
  /// deployments and live leases. Blocks on the repository.
  caf::expected<std::string> describe() const;

  const membership_config& config() const noexcept { return cfg_; }

private:
  void run();
  void beat_once();
  lease_guard::clock::time_point now() const;
  std::vector<uuid> running_deployments();

  membership_config cfg_;
  persistence::cluster_repository& repo_;
  actors::node_engine& engine_;
  prometheus::Gauge* nodes_gauge_ = nullptr;
  prometheus::Gauge* leases_gauge_ = nullptr;

  mutable std::mutex mtx_;
  std::condition_variable wake_;
  /// Signalled after every heartbeat, good or not.
  std::condition_variable beaten_;
  bool stopping_ = false;
  bool beat_now_ = false;
  uint64_t beats_ = 0;
  std::thread thread_;
  // Guarded by `mtx_`.
  lease_guard guard_;
  bool joined_ = false;
  bool fenced_ = false;
  int64_t live_nodes_ = 0;
  int64_t leases_ = 0;
  std::string last_error_;
  // Only the heartbeat thread touches these.
  std::vector<uuid> last_running_;
};

} // namespace orch::cluster
