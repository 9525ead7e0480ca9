#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace orch::openstack {

/// Where a circuit breaker stands; exported as a metric label.
enum class breaker_state { closed, open, half_open };

/// Stable snake_case name of `x`.
std::string to_string(breaker_state x);

/// Thresholds of a `circuit_breaker`.
struct breaker_config {
  /// Consecutive failures that open a closed breaker.
  int failure_threshold = 5;
  /// How long an open breaker refuses calls before it lets probes through.
  std::chrono::milliseconds open_duration{30'000};
  /// Probes admitted while half-open; that many successes close the breaker again.
  int half_open_probes = 1;
  /// A probe whose outcome has not been reported after this long counts as failed, so a lost
  /// answer can never keep the breaker half-open with no probe allowed.
  std::chrono::milliseconds probe_timeout{60'000};
  /// A failure that came with `Retry-After` opens the breaker for that long instead of
  /// `open_duration`, but never shorter than this nor longer than `open_duration`: the service
  /// said when to come back.
  std::chrono::milliseconds min_open_duration{1'000};
};

/// Stops calling a service (one per cloud and service) after a run of failures, then probes
/// it. Pure: time comes in as an argument.
///
/// - closed: every call is allowed; `failure_threshold` consecutive failures open it.
/// - open: calls are refused until `open_duration` has passed, then it is half-open.
/// - half-open: up to `half_open_probes` calls are allowed at once; as many successes close
///   it, one failure opens it again for another `open_duration`. A probe not reported within
///   `probe_timeout` counts as a failure, so probing always goes on.
class circuit_breaker {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit circuit_breaker(breaker_config config = {});

  /// Whether a call may be sent now. In half-open state an admitted call is a probe and
  /// must be followed by `on_success` or `on_failure`.
  bool allow(time_point now);

  /// Records a call that reached a healthy service (any answer but a transient failure).
  void on_success();

  /// Records a transient failure (5xx, timeout, connection failure), with the service's
  /// `Retry-After` if it sent one.
  void on_failure(time_point now,
                  std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

  /// The state as of the last call to `allow`, `on_success` or `on_failure`.
  breaker_state state() const noexcept { return state_; }

  const breaker_config& config() const noexcept { return config_; }

private:
  breaker_config config_;
  breaker_state state_ = breaker_state::closed;
  int consecutive_failures_ = 0;
  int probes_in_flight_ = 0;
  int probe_successes_ = 0;
  time_point opened_at_{};
  /// How long the current open period lasts.
  std::chrono::milliseconds open_for_{};
  /// When the oldest probe still in flight was admitted.
  time_point probes_since_{};

  void open(time_point now, std::optional<std::chrono::milliseconds> retry_after);
};

} // namespace orch::openstack
