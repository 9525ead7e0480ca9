#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace orch::http {

/// A monotonic clock as a function, so tests can move time by hand.
using clock_function = std::function<std::chrono::steady_clock::time_point()>;

/// What `rate_limiter::take` decided, with the values of the `RateLimit-*` header fields.
struct rate_decision {
  bool allowed = true;
  /// `RateLimit-Limit`: requests per minute.
  int limit = 0;
  /// `RateLimit-Remaining`: whole tokens left after this request.
  int remaining = 0;
  /// `RateLimit-Reset`: seconds until the bucket is full again.
  int reset_seconds = 0;
  /// `Retry-After` when refused: seconds until one token is back (at least 1).
  int retry_after_seconds = 0;
};

/// A token bucket per key: `per_minute` tokens, refilled continuously at `per_minute` / 60 per
/// second; each request takes one. Thread-safe.
class rate_limiter {
public:
  rate_limiter(int per_minute, clock_function now);

  /// Takes a token from the bucket of `key`.
  rate_decision take(std::string_view key);

private:
  struct bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };

  int per_minute_;
  double per_second_;
  clock_function now_;
  std::mutex mtx_;
  std::unordered_map<std::string, bucket> buckets_;
};

} // namespace orch::http
