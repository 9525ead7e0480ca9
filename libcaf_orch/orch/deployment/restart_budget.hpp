#pragma once

#include <chrono>
#include <vector>

namespace orch {

/// Settings of a `restart_budget`.
struct restart_budget_config {
  /// Restarts allowed inside one `window`; one more escalates.
  int max_restarts = 5;
  std::chrono::milliseconds window{60'000};
  /// Delay before the first restart; doubles with each restart inside the window.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
};

/// What to do about a child that failed.
struct restart_decision {
  /// `false`: the budget is spent, escalate to the own supervisor.
  bool restart = false;
  /// Wait this long before restarting.
  std::chrono::milliseconds delay{0};
};

/// Counts restarts in a sliding window. Pure: the caller passes the time.
class restart_budget {
public:
  /// The clock the caller reads (CAF 0.17's `actor_clock` uses the steady clock).
  using time_point = std::chrono::steady_clock::time_point;

  /// Starts with an empty history.
  explicit restart_budget(restart_budget_config cfg = {});

  /// Records a failure at `now` and decides: restart after an exponential backoff while fewer
  /// than `max_restarts` restarts happened in the last `window`, else escalate.
  restart_decision on_failure(time_point now);

  /// Restarts counted in the window ending at `now`.
  int restarts_in_window(time_point now) const;

private:
  restart_budget_config cfg_;
  std::vector<time_point> restarts_;
};

} // namespace orch
