#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace orch::cluster {

/// Timing of membership and leases (`CLUSTER_HEARTBEAT`, `CLUSTER_LEASE`).
struct lease_timing {
  /// How often a node reports and renews its leases.
  std::chrono::milliseconds heartbeat{1'000};
  /// How long a lease lasts without renewal: a node silent this long is dead to the others.
  std::chrono::milliseconds lease{10'000};

  /// How long before its leases may run out a node that could not renew them stops acting:
  /// two heartbeats, at most half a lease. A renewal that reached the database but whose answer
  /// was lost still started the lease no earlier than the attempt did, so counting from the
  /// attempt's start is safe.
  std::chrono::milliseconds safety_margin() const;
};

/// An error message when `t` is unusable (a heartbeat of at least 50 ms, a lease of at least
/// three heartbeats), else nothing.
std::optional<std::string> check(const lease_timing& t);

/// A node's own view of its leases, by its monotonic clock: when they may run out, given the
/// renewals that succeeded. Pure: the caller passes the time. Not thread-safe.
class lease_guard {
public:
  using clock = std::chrono::steady_clock;

  /// `started`: the node starts with no lease to lose, as if it had just renewed.
  lease_guard(lease_timing timing, clock::time_point started);

  /// A renewal attempted at `attempt_start` succeeded.
  void renewed(clock::time_point attempt_start);

  /// Whether the node must stop acting on its deployments at `now`: its last good renewal is
  /// so old that its leases run out within the safety margin, and others may take them.
  bool must_stop(clock::time_point now) const;

  /// Whether the last good renewal is within one heartbeat plus the margin: the node is in
  /// good standing (readiness).
  bool healthy(clock::time_point now) const;

  /// Since the last good renewal.
  clock::duration since_renewal(clock::time_point now) const { return now - last_renewal_; }

private:
  lease_timing timing_;
  clock::time_point last_renewal_;
};

/// How a node's row in `cluster_nodes` reads to the others.
enum class node_state {
  /// Heartbeats within the last lease period.
  live,
  /// Silent for a lease period or more: its leases are (or will soon be) taken over.
  silent,
  /// Left on SIGTERM and handed its leases over.
  left,
};

/// The state of a node whose last heartbeat is `heartbeat_age` old.
node_state state_of(std::chrono::milliseconds heartbeat_age, bool left, const lease_timing& t);

/// `live`, `silent` or `left`.
const char* to_string(node_state s);

} // namespace orch::cluster
