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
  config_.min_open_duration = std::min(config_.min_open_duration, config_.open_duration);
  open_for_ = config_.open_duration;
}

void circuit_breaker::open(time_point now, std::optional<std::chrono::milliseconds> retry_after) {
  state_ = breaker_state::open;
  opened_at_ = now;
  open_for_ = retry_after
                ? std::clamp(*retry_after, config_.min_open_duration, config_.open_duration)
                : config_.open_duration;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
}

bool circuit_breaker::allow(time_point now) {
  switch (state_) {
    case breaker_state::closed: return true;
    case breaker_state::open:
      if (now - opened_at_ < open_for_) return false;
      state_ = breaker_state::half_open;
      probes_in_flight_ = 0;
      probe_successes_ = 0;
      [[fallthrough]];
    case breaker_state::half_open:
      // Probes whose answers never came are failures: open again, and let the next call
      // through once that period has passed.
      if (probes_in_flight_ > 0 && now - probes_since_ >= config_.probe_timeout) {
        open(now, std::nullopt);
        return false;
      }
      if (probes_in_flight_ + probe_successes_ >= config_.half_open_probes) return false;
      if (probes_in_flight_++ == 0) probes_since_ = now;
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

void circuit_breaker::on_failure(time_point now,
                                 std::optional<std::chrono::milliseconds> retry_after) {
  switch (state_) {
    case breaker_state::closed:
      if (++consecutive_failures_ >= config_.failure_threshold) open(now, retry_after);
      break;
    case breaker_state::open: break;
    case breaker_state::half_open: open(now, retry_after); break;
  }
}

} // namespace orch::openstack
