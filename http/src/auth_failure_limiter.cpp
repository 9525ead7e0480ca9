#include "orch/http/auth_failure_limiter.hpp"

#include <algorithm>

namespace orch::http {

auth_failure_limiter::auth_failure_limiter(int per_minute, clock_function now,
                                           std::size_t max_addresses)
  : per_minute_(std::max(1, per_minute)), max_addresses_(std::max<std::size_t>(1, max_addresses)),
    now_(std::move(now)) {
  // nop
}

void auth_failure_limiter::expire(std::chrono::steady_clock::time_point now) {
  while (!order_.empty()) {
    auto it = entries_.find(order_.front());
    if (it != entries_.end() && now < it->second.opened + window) return;
    if (it != entries_.end()) entries_.erase(it);
    order_.pop_front();
  }
}

int auth_failure_limiter::blocked_for(std::string_view address) {
  auto now = now_();
  std::lock_guard guard{mtx_};
  expire(now);
  auto it = entries_.find(std::string{address});
  if (it == entries_.end() || it->second.failures < per_minute_) return 0;
  auto left = std::chrono::ceil<std::chrono::seconds>(it->second.opened + window - now);
  return std::max(1, static_cast<int>(left.count()));
}

bool auth_failure_limiter::record_failure(std::string_view address) {
  auto now = now_();
  std::lock_guard guard{mtx_};
  expire(now);
  auto key = std::string{address};
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_addresses_) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    it = entries_.emplace(std::move(key), entry{0, now}).first;
  }
  auto& e = it->second;
  if (e.failures >= per_minute_) return false;
  return ++e.failures == per_minute_;
}

std::size_t auth_failure_limiter::tracked() const {
  std::lock_guard guard{mtx_};
  return entries_.size();
}

} // namespace orch::http
