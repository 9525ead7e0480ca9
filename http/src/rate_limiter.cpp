#include "orch/http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace orch::http {

namespace {

/// Whole seconds to cover `seconds`, ignoring floating-point dust (0.05 / 0.05 = 1.0000000001).
int ceil_seconds(double seconds) {
  return static_cast<int>(std::ceil(seconds - 1e-9));
}

} // namespace

rate_limiter::rate_limiter(int per_minute, clock_function now)
  : per_minute_(std::max(1, per_minute)), per_second_(static_cast<double>(per_minute_) / 60.0),
    now_(std::move(now)) {
  // nop
}

rate_decision rate_limiter::take(std::string_view key) {
  auto now = now_();
  std::lock_guard guard{mtx_};
  auto [it, added]
    = buckets_.try_emplace(std::string{key}, bucket{static_cast<double>(per_minute_), now});
  auto& b = it->second;
  if (!added) {
    auto elapsed = std::chrono::duration<double>(now - b.updated).count();
    if (elapsed > 0) b.tokens = std::min<double>(per_minute_, b.tokens + elapsed * per_second_);
    b.updated = std::max(b.updated, now);
  }
  rate_decision result;
  result.limit = per_minute_;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
  } else {
    result.allowed = false;
    result.retry_after_seconds = std::max(1, ceil_seconds((1.0 - b.tokens) / per_second_));
  }
  result.remaining = static_cast<int>(std::floor(b.tokens));
  result.reset_seconds = ceil_seconds((static_cast<double>(per_minute_) - b.tokens) / per_second_);
  return result;
}

} // namespace orch::http
