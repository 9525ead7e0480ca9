#pragma once

#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <caf/error.hpp>

#include "orch/openstack/http_transport.hpp"
#include "orch/time.hpp"

namespace orch::openstack {

/// An OpenStack service, as the client addresses it (catalog type, metrics label).
enum class service { identity, compute, network, block_storage, image };

/// Stable label: `identity`, `compute`, `network`, `block_storage`, `image`.
std::string to_string(service x);

/// Every way an OpenStack call can fail, as the caller must react to it.
enum class os_error_kind {
  /// 5xx, timeouts, broken connections: retried by the client for idempotent calls.
  transient,
  /// 429, or 413 with a positive `Retry-After`: retried after the advertised delay.
  rate_limited,
  /// 409/412: the resource is busy, in the wrong state or still in use (Nova
  /// `conflictingRequest`, Neutron `NetworkInUse`, ...). The caller decides.
  conflict,
  /// 404: the object does not exist (any more).
  not_found,
  /// A quota is exhausted (Nova 403 `Quota exceeded`, Neutron 409 `OverQuota`, Cinder 413
  /// without a positive `Retry-After`). Never retried.
  quota,
  /// 400 and other 4xx: the request is wrong and repeating it cannot help.
  bad_request,
  /// 401 after one re-authentication, or a 403 that is not about quota: credentials or roles.
  auth,
  /// A non-idempotent call (a create) may or may not have taken effect: its answer was lost.
  /// Never repeated; the caller reconciles by tag before trying again.
  outcome_unknown,
  /// The catalog named an endpoint outside `OPENSTACK_ENDPOINT_ALLOWLIST`, or none at all.
  endpoint_refused,
  /// The service's circuit breaker is open: the call was not sent.
  circuit_open,
  /// A 2xx answer whose body lacks a required field or has the wrong shape.
  malformed_response,
};

/// Stable snake_case name of `x`.
std::string to_string(os_error_kind x);

/// A classified OpenStack failure. Texts never contain credentials or tokens.
struct os_error {
  os_error_kind kind = os_error_kind::transient;
  /// HTTP status, 0 when no response arrived.
  int http_status = 0;
  /// Nova/Cinder fault name (`itemNotFound`), Neutron type (`NetworkInUse`), Keystone title,
  /// or the `transport_error` name.
  std::string code;
  /// Human-readable message from the service (truncated), or the client's own explanation.
  std::string message;
  /// Delay the service asked for (`Retry-After`), when it is positive.
  std::optional<std::chrono::milliseconds> retry_after;
  /// `x-openstack-request-id` of the failed response, for joining logs.
  std::string request_id;
};

/// One line for logs: `quota (403 forbidden): Quota exceeded ... [req-...]`.
std::string to_string(const os_error& x);

/// Classifies a non-2xx response. Branches on the status first and uses the service's error
/// envelope (Nova/Cinder fault name, Neutron `type`, Keystone `error`) only to refine it.
/// `Retry-After` may be delta-seconds or an HTTP-date; a date is measured against the
/// response's `Date` header, else against `now`, else ignored.
os_error classify(service svc, int status, const http_headers& headers, std::string_view body,
                  std::optional<timestamp> now = std::nullopt);

/// Classifies a transport failure: `transient`, except `response_too_large`, which repeats
/// identically and therefore is `bad_request`.
os_error classify(const transport_failure& failure);

/// Converts to a `caf::error` of category "orch" for replies between actors: transient,
/// outcome_unknown and circuit_open → `unavailable`; rate_limited → `rate_limited`; conflict
/// → `conflict`; not_found → `not_found`; quota → `forbidden`; bad_request and
/// malformed_response → `invalid_spec` / `internal`; auth → `unauthenticated`;
/// endpoint_refused → `invalid_config`. The detail is `to_string(err)`.
caf::error to_caf_error(const os_error& err);

/// The outcome of a client operation: a `T` or an `os_error`.
///
/// Chosen over `caf::expected<T>` because callers branch on `os_error_kind` (retry,
/// reconcile, fail) and need `retry_after` and the request id, which a `caf::error` only
/// carries as text. `to_caf_error` converts at the actor boundary.
template <class T>
class result {
public:
  result(T value) : value_(std::move(value)) {
    // nop
  }

  result(os_error err) : value_(std::move(err)) {
    // nop
  }

  bool ok() const noexcept { return value_.index() == 0; }

  explicit operator bool() const noexcept { return ok(); }

  T& value() {
    assert(ok());
    return std::get<0>(value_);
  }

  const T& value() const {
    assert(ok());
    return std::get<0>(value_);
  }

  T& operator*() { return value(); }

  const T& operator*() const { return value(); }

  T* operator->() { return &value(); }

  const T* operator->() const { return &value(); }

  const os_error& error() const {
    assert(!ok());
    return std::get<1>(value_);
  }

private:
  std::variant<T, os_error> value_;
};

/// The value type of operations that return nothing but success.
struct done {};

} // namespace orch::openstack
