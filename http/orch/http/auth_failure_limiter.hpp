#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "orch/http/rate_limiter.hpp"

namespace orch::http {

/// Counts failed authentications per client address, to stop key-guessing runs
/// (`AUTH_FAILURES_PER_MINUTE`). An address's first failure opens a one-minute window; once it
/// holds `per_minute` failures, the address is blocked until that window ends, whatever key it
/// sends then. Memory is bounded: at most `max_addresses` windows are kept; beyond that the
/// oldest is forgotten first (an attacker with that many addresses gets no further than with
/// one). Thread-safe.
class auth_failure_limiter {
public:
  /// Length of one window.
  static constexpr std::chrono::seconds window{60};

  auth_failure_limiter(int per_minute, clock_function now, std::size_t max_addresses = 65'536);

  /// Seconds until `address` may try again (at least 1), or 0 when it is not blocked.
  int blocked_for(std::string_view address);

  /// Records one failed authentication of `address`. Returns `true` if this failure blocks it.
  bool record_failure(std::string_view address);

  /// Failures that block an address.
  int per_minute() const noexcept { return per_minute_; }

  /// Addresses with an open window, for tests.
  std::size_t tracked() const;

private:
  struct entry {
    int failures = 0;
    std::chrono::steady_clock::time_point opened;
  };

  using entry_map = std::unordered_map<std::string, entry>;

  /// Forgets every window that ended. A window is never reopened in place (a failure after it
  /// ended makes a new one at the back), so `order_` stays sorted by `opened`.
  void expire(std::chrono::steady_clock::time_point now);

  int per_minute_;
  std::size_t max_addresses_;
  clock_function now_;
  mutable std::mutex mtx_;
  entry_map entries_;
  /// Addresses, oldest window first.
  std::list<std::string> order_;
};

} // namespace orch::http
