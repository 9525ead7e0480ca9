#include "orch/openstack/circuit_breaker.hpp"

#include <algorithm>

namespace orch::openstack {

std::string to_string(breaker_state x) {
  switch (x) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "unknown";
}

circuit_breaker::circuit_breaker(breaker_config config) : config_(config) {
  config_.failure_threshold = std::max(config_.failure_threshold, 1);
  config_.half_open_probes = std::max(config_.half_open_probes, 1);
}

bool circuit_breaker::allow(time_point now) {
  switch (state_) {
    case breaker_state::closed: return true;
    case breaker_state::open:
      if (now - opened_at_ < config_.open_duration) return false;
      state_ = breaker_state::half_open;
      probes_in_flight_ = 0;
      probe_successes_ = 0;
      [[fallthrough]];
    case breaker_state::half_open:
      if (probes_in_flight_ + probe_successes_ >= config_.half_open_probes) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void circuit_breaker::on_success() {
  switch (state_) {
    case breaker_state::closed: consecutive_failures_ = 0; break;
    case breaker_state::open:
      // A call admitted before the breaker opened; the service still gets its pause.
      break;
    case breaker_state::half_open:
      probes_in_flight_ = std::max(probes_in_flight_ - 1, 0);
      if (++probe_successes_ >= config_.half_open_probes) {
        state_ = breaker_state::closed;
        consecutive_failures_ = 0;
      }
      break;
  }
}

void circuit_breaker::on_failure(time_point now) {
  switch (state_) {
    case breaker_state::closed:
      if (++consecutive_failures_ >= config_.failure_threshold) {
        state_ = breaker_state::open;
        opened_at_ = now;
      }
      break;
    case breaker_state::open: break;
    case breaker_state::half_open:
      state_ = breaker_state::open;
      opened_at_ = now;
      probes_in_flight_ = 0;
      probe_successes_ = 0;
      break;
  }
}

} // namespace orch::openstack
