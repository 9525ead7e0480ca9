#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "orch/persistence/pool.hpp"
#include "orch/time.hpp"
#include "orch/uuid.hpp"

namespace orch::persistence {

/// What a node tells the others at each heartbeat.
struct node_heartbeat {
  std::string node_id;
  /// The node's first heartbeat since it started: `started_at` is set to now.
  bool joining = false;
  /// Where its REST API listens (`host:port`), for operators and, later, routing.
  std::string api_address;
  /// Deployment actors running or queued on the node.
  int64_t active_deployments = 0;
  /// Deployments whose actor runs here: leases found owned by another node are reported lost.
  std::vector<uuid> running;
  /// The renewed leases run out this long after the renewal.
  std::chrono::milliseconds lease{10'000};
};

/// What one heartbeat found.
struct heartbeat_result {
  /// Leases the node holds after the renewal.
  int64_t leases = 0;
  /// Deployments of `running` that another node holds now: their actors must stop.
  std::vector<uuid> lost;
  /// Busy deployments without an actor here that this node may take: leases that expired on
  /// another node (dead or left), free ones nobody took for a lease period, and the node's own
  /// (after it stopped acting while the database was away). At most 500, oldest first.
  std::vector<uuid> claimable;
  /// Nodes that heartbeat within the last lease period and have not left, this one included.
  int64_t live_nodes = 0;
};

/// One row of `cluster_nodes`, as `GET /cluster` shows it.
struct node_entry {
  std::string node_id;
  std::string api_address;
  timestamp started_at;
  timestamp heartbeat_at;
  /// Age of the last heartbeat by the database's clock.
  std::chrono::milliseconds heartbeat_age{0};
  int64_t active_deployments = 0;
  /// Live leases the node holds now (counted from `deployments`, not its last report).
  int64_t leases = 0;
  /// Set when the node left on SIGTERM.
  std::optional<timestamp> left_at;
};

/// Membership (`cluster_nodes`) and the node-wide lease operations on `deployments`. Times are
/// the database's, so the nodes' clocks need not agree. Every call may fail with
/// `errc::store_unavailable`.
class cluster_repository {
public:
  virtual ~cluster_repository() = default;

  /// In one transaction: upserts the node's row (heartbeat now, `left_at` cleared), renews
  /// every lease the node holds on a busy deployment or on one in `hb.running`, releases its
  /// other leases (finished deployments whose actor passivated), and reads what was lost,
  /// what expired elsewhere and how many nodes are live.
  virtual caf::expected<heartbeat_result> heartbeat(const node_heartbeat& hb) = 0;

  /// A node leaving: frees every lease it holds, so that the others take its deployments at
  /// once, and marks it left. Returns how many leases were freed.
  virtual caf::expected<int64_t> leave(const std::string& node_id) = 0;

  /// Every node that ever joined, by node id; nodes that left or went silent are listed too.
  virtual caf::expected<std::vector<node_entry>> nodes() = 0;
};

/// A `cluster_repository` over PostgreSQL, borrowing connections from `db` (which must outlive
/// it). Thread-safe.
std::unique_ptr<cluster_repository> make_pg_cluster_repository(pool& db);

} // namespace orch::persistence
