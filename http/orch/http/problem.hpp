#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <caf/error.hpp>

#include "orch/http/server.hpp"
#include "orch/template_spec.hpp"

namespace orch::http {

/// The media type of every error body (RFC 9457).
inline constexpr std::string_view problem_media_type = "application/problem+json";

/// The media type of every JSON body we send.
inline constexpr std::string_view json_media_type = "application/json; charset=utf-8";

/// An error to report as RFC 9457 problem details. `type` is always `about:blank` and `title`
/// the standard reason phrase of `status`.
struct problem {
  beast_http::status status = beast_http::status::internal_server_error;
  /// Human-readable explanation for this occurrence; empty leaves it out. Never internals.
  std::string detail;
  /// Every field that failed validation (422), in document order.
  std::vector<field_error> errors;
  /// Header fields to send along: `Allow` (405), `Retry-After` (429, 503),
  /// `WWW-Authenticate` (401).
  std::vector<std::pair<beast_http::field, std::string>> headers;
};

/// The problem+json response for `p`, answering a request for `target` (its query string is
/// dropped to form `instance`; left out when empty) that carries `request_id` (left out when
/// empty).
response make_problem_response(const problem& p, std::string_view target,
                               std::string_view request_id, unsigned version = 11);

/// The server's own error answers (413, 431, 400, 503, 500) as problem+json: assign it to
/// `server_config::error_response`. Like every problem, it carries a `request_id` and the
/// `X-Request-ID` field: the client's when it sent a sane one the server read, else a fresh one.
/// `instance` is there when the target was read. A 503 gets `Retry-After`.
response make_server_error_response(const server_error& err);

/// Shorthand: the problem+json response with `status` and `detail` for `req`, using the request
/// id the gateway stored in `ctx`.
response make_problem_response(beast_http::status status, std::string detail, const request& req,
                               const request_context& ctx);

/// The HTTP status that reports `err` (STYLE.md §7, API.md "Errors"): invalid_spec 422,
/// not_found 404, conflict 409, store_unavailable and unavailable 503, unauthenticated 401,
/// forbidden 403, rate_limited 429, payload_too_large 413, unsupported_media_type 415,
/// malformed_request 400; CAF's request timeouts and dead receivers 503; anything else 500.
beast_http::status to_status(const caf::error& err);

/// The problem that reports `err`: its status per `to_status`, its detail from the error (a
/// generic one for a 500, which never shows internals), `Retry-After` on a 503 and
/// `WWW-Authenticate: Bearer` on a 401.
problem to_problem(const caf::error& err);

/// A JSON response: `status`, `body` (JSON text) and `Content-Type: application/json;
/// charset=utf-8`.
response make_json_response(beast_http::status status, std::string body, unsigned version = 11);

/// Seconds a client is asked to wait after a 503.
inline constexpr int unavailable_retry_after_seconds = 5;

} // namespace orch::http
