#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "orch/time.hpp"

namespace orch::openstack {

/// Header fields in the order sent or received; names compare case-insensitively.
using http_headers = std::vector<std::pair<std::string, std::string>>;

/// The value of the first header named `name` (case-insensitive), if any.
std::optional<std::string_view> find_header(const http_headers& headers, std::string_view name);

/// One HTTP request as the client wants it sent. The transport adds `Host`, `Content-Length`
/// and `User-Agent`; everything else comes from here.
struct http_call {
  /// Request method in upper case: `GET`, `POST`, `PUT`, `DELETE`, `HEAD`.
  std::string method;
  /// Absolute URL (`http://` or `https://`), already percent-encoded.
  std::string url;
  http_headers headers;
  std::string body;
  /// Upper bound for connect + send + receive of this one attempt.
  std::chrono::milliseconds timeout{30'000};
};

/// A complete HTTP response, whatever its status.
struct http_result {
  int status = 0;
  http_headers headers;
  std::string body;
};

/// Why a transport could not produce a response. The distinction matters for retries: only
/// `connect_failed` guarantees that the server never saw the request.
enum class transport_error {
  /// Name resolution, TCP connect or TLS handshake failed: nothing was sent. A timeout that
  /// expires before the connection is established is reported as this, too.
  connect_failed,
  /// The request was (maybe partially) sent and no complete response arrived in time.
  timeout,
  /// The connection broke after the request was (maybe partially) sent.
  connection_reset,
  /// The server answered, but the response exceeded the transport's size limit.
  response_too_large,
};

/// Stable snake_case name of `x`.
std::string to_string(transport_error x);

/// A failed exchange: the reason plus a human-readable detail (never a header or body).
struct transport_failure {
  transport_error error = transport_error::connect_failed;
  std::string detail;
};

/// What one `http_transport::send` ends with.
using transport_outcome = std::variant<http_result, transport_failure>;

/// Port: sends one HTTP request. Implemented by the Beast client in `http/` and by fakes in
/// tests.
///
/// Contract: `send` calls `done` exactly once, later or before returning. Headers and bodies
/// carry secrets (the Keystone password, `X-Auth-Token`, `X-Subject-Token`): an adapter never
/// logs them and keeps them out of `transport_failure::detail`. The client is not
/// thread-safe, so an adapter must deliver `done` on the execution context (strand, actor)
/// that drives the client.
class http_transport {
public:
  virtual ~http_transport();

  virtual void send(http_call call, std::function<void(transport_outcome)> done) = 0;
};

/// Port: runs a function once after a delay (retries, backoff). Same threading contract as
/// `http_transport`.
class timer {
public:
  virtual ~timer();

  virtual void after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};

/// Port: reads time. The client measures deadlines and token lifetimes on the monotonic
/// `now()`; `utc_now()` is only a fallback for interpreting `Retry-After` HTTP-dates when a
/// response has no `Date` header.
class clock {
public:
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~clock();

  virtual time_point now() const = 0;

  virtual timestamp utc_now() const = 0;
};

} // namespace orch::openstack
