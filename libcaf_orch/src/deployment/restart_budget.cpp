#include "orch/deployment/restart_budget.hpp"

#include <algorithm>

namespace orch {

restart_budget::restart_budget(restart_budget_config cfg) : cfg_(cfg) {
  // nop
}

int restart_budget::restarts_in_window(time_point now) const {
  return static_cast<int>(std::count_if(restarts_.begin(), restarts_.end(),
                                        [&](time_point t) { return now - t < cfg_.window; }));
}

restart_decision restart_budget::on_failure(time_point now) {
  std::erase_if(restarts_, [&](time_point t) { return now - t >= cfg_.window; });
  auto count = static_cast<int>(restarts_.size());
  if (count >= cfg_.max_restarts) return restart_decision{false, std::chrono::milliseconds{0}};
  restarts_.push_back(now);
  auto delay = cfg_.initial_backoff;
  for (int i = 0; i < count && delay < cfg_.max_backoff; ++i) delay *= 2;
  return restart_decision{true, std::min(delay, cfg_.max_backoff)};
}

} // namespace orch
