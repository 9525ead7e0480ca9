#include "orch/cluster/lease_policy.hpp"

#include <algorithm>

namespace orch::cluster {

std::chrono::milliseconds lease_timing::safety_margin() const {
  return std::min(heartbeat * 2, lease / 2);
}

std::optional<std::string> check(const lease_timing& t) {
  if (t.heartbeat < std::chrono::milliseconds{50}) return "CLUSTER_HEARTBEAT must be at least 50ms";
  if (t.lease < t.heartbeat * 3)
    return "CLUSTER_LEASE must be at least three CLUSTER_HEARTBEAT periods (got "
           + std::to_string(t.lease.count()) + " ms for a heartbeat of "
           + std::to_string(t.heartbeat.count()) + " ms)";
  return std::nullopt;
}

lease_guard::lease_guard(lease_timing timing, clock::time_point started)
  : timing_(timing), last_renewal_(started) {
  // nop
}

void lease_guard::renewed(clock::time_point attempt_start) {
  last_renewal_ = std::max(last_renewal_, attempt_start);
}

bool lease_guard::must_stop(clock::time_point now) const {
  return now - last_renewal_ >= timing_.lease - timing_.safety_margin();
}

bool lease_guard::healthy(clock::time_point now) const {
  return now - last_renewal_ < timing_.heartbeat + timing_.safety_margin();
}

node_state state_of(std::chrono::milliseconds heartbeat_age, bool left, const lease_timing& t) {
  if (left) return node_state::left;
  return heartbeat_age < t.lease ? node_state::live : node_state::silent;
}

const char* to_string(node_state s) {
  switch (s) {
    case node_state::live: return "live";
    case node_state::silent: return "silent";
    case node_state::left: return "left";
  }
  return "live";
}

} // namespace orch::cluster
