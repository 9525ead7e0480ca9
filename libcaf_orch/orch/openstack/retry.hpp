#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "orch/openstack/errors.hpp"
#include "orch/time.hpp"

namespace orch::openstack {

/// Bounds on how often and how long the client repeats one logical call.
struct retry_policy {
  /// Attempts in total, the first one included (1 = never retry).
  int max_attempts = 5;
  /// Backoff before the second attempt; doubles per attempt.
  std::chrono::milliseconds base_delay{250};
  /// Upper bound of the exponential part of the backoff.
  std::chrono::milliseconds max_delay{20'000};
  /// Budget for the whole call, measured from its first attempt; no retry is scheduled that
  /// would start after it.
  std::chrono::milliseconds deadline{120'000};
};

/// A uniformly distributed number in [0, 1), injected so that tests are deterministic.
using random_source = std::function<double()>;

/// Full jitter: a uniform delay in [0, min(max_delay, base_delay * 2^(attempt-1))], where
/// `attempt` is the number of attempts already made (>= 1) and `unit` in [0, 1).
std::chrono::milliseconds backoff_delay(const retry_policy& policy, int attempt, double unit);

/// Parses a `Retry-After` value: delta-seconds (`120`) or an HTTP-date
/// (`Fri, 31 Dec 1999 23:59:59 GMT`, also the obsolete RFC 850 and asctime forms), the latter
/// measured against `now`. `nullopt` if malformed, or a date without `now`. Dates in the past
/// give zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::optional<timestamp> now);

/// Parses an HTTP-date (RFC 9110 §5.6.7, all three forms); `nullopt` if malformed.
std::optional<timestamp> parse_http_date(std::string_view value);

/// Whether sending the call twice has the same effect as sending it once.
///
/// - `GET`, `HEAD`, `PUT`, `DELETE` are idempotent (a repeated DELETE answers 404, which the
///   client's delete operations count as done) ...
/// - ... except the router interface actions `add_router_interface` and
///   `remove_router_interface`, which are PUTs that fail when repeated.
/// - `POST` is idempotent only for the `authenticate` action (each call mints a new token);
///   creates and server actions (`resize`, `confirm_resize`, ...) are not.
///
/// `action` is the client's logical operation name (e.g. `create_server`).
bool is_idempotent(std::string_view method, std::string_view action);

/// What the client does after a failed attempt.
struct retry_decision {
  /// `true`: wait `delay`, then send again. `false`: report `error`.
  bool retry = false;
  std::chrono::milliseconds delay{0};
  /// The error to report when not retrying (possibly turned into `outcome_unknown`).
  os_error error;
};

/// Decides about one failed attempt.
///
/// The contract, which the caller relies on to avoid duplicate resources:
/// - Only `transient` and `rate_limited` failures are retried, at most
///   `policy.max_attempts` attempts in all, and never past `policy.deadline`.
/// - An idempotent call is retried blindly.
/// - A non-idempotent call (a create, a server action) is retried only if the server cannot
///   have executed it: the transport failed to connect (`may_have_executed == false`), the
///   answer was 429, or 413 with a positive `Retry-After` (rate limiters reject before the
///   service acts). If it may have executed (timeout or reset after sending, any 5xx,
///   `response_too_large`), the error becomes `outcome_unknown` and the call is NOT
///   repeated: the caller must list by its tag (`orch-deployment=<id>`,
///   `orch-resource=<name>`) and adopt what it finds before creating again.
/// - `retry_after` is honoured: the delay is `retry_after` plus the jittered backoff, so
///   jitter never shortens it.
///
/// `attempts` counts the attempts made so far (>= 1), `elapsed` the time since the first
/// one started, `unit` a random number in [0, 1).
retry_decision decide_retry(const retry_policy& policy, const os_error& error,
                            bool may_have_executed, bool idempotent, int attempts,
                            std::chrono::milliseconds elapsed, double unit);

} // namespace orch::openstack
