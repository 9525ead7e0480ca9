#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/beast/http/verb.hpp>
#include <prometheus/registry.h>

#include "orch/config.hpp"
#include "orch/http/auth_failure_limiter.hpp"
#include "orch/http/authenticator.hpp"
#include "orch/http/cors_policy.hpp"
#include "orch/http/http_metrics.hpp"
#include "orch/http/rate_limiter.hpp"
#include "orch/http/router.hpp"
#include "orch/http/server.hpp"

namespace orch::http {

/// Settings of the gateway (the same fields as `orch::http_config`).
struct gateway_config {
  /// `API_KEYS`.
  std::vector<api_key> keys;
  /// `CORS_ORIGINS`; `*` allows any origin.
  std::vector<std::string> cors_origins;
  /// `RATE_LIMIT_PER_MINUTE`, per key.
  int rate_limit_per_minute = 100;
  /// `AUTH_FAILURES_PER_MINUTE`, per client address.
  int auth_failures_per_minute = 20;
};

/// Reports the health of one dependency for `GET /health/ready`: calls `done(ok, detail)` once,
/// from any thread, within its own timeout (the gateway does not time it out).
using readiness_check = std::function<void(std::function<void(bool ok, std::string detail)> done)>;

/// The API's front door and the server's `handler`. For each request, in order: request id
/// (`X-Request-ID` echoed if sane, else a UUID), CORS (preflights answered 204),
/// failed-authentication limit per client address (429 with `Retry-After` once an address had
/// `auth_failures_per_minute` 401s within a minute, even with a valid key, until that minute is
/// over), authentication (401 with `WWW-Authenticate: Bearer`; open routes skip it and both
/// limits), rate limit per key (429 with `Retry-After`; `RateLimit-*` on every keyed response),
/// authorization (403 for a read key on a mutating route), routing (404, 405 with `Allow`), 415
/// for a non-JSON body on POST, PUT or PATCH, then the route handler. Every response gets
/// `X-Request-ID`, CORS fields, a JSON `Content-Type` if it has a body and none, a sample in
/// `api_request_duration_seconds` and an access log line on `orch.http`.
/// Built in: `GET /health`, `GET /health/ready`, `GET /metrics`.
class gateway {
public:
  /// Metrics go to `registry`, which must outlive the gateway; `now` drives the rate limiter
  /// and the duration measurements.
  gateway(
    gateway_config cfg, prometheus::Registry& registry,
    clock_function now = [] { return std::chrono::steady_clock::now(); });

  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Adds a route; see `router::add`. Add every route before serving.
  void add_route(boost::beast::http::verb method, const std::string& pattern, route_handler fn);

  /// The route table, e.g. to compare with the OpenAPI document.
  const router& routes() const noexcept { return router_; }

  /// Adds a dependency `GET /health/ready` reports under `name`. Add every check before serving.
  void add_readiness_check(std::string name, readiness_check check);

  /// Replaces the API keys while serving (rotation without restart).
  void set_keys(const std::vector<api_key>& keys);

  /// Replaces the keys stored in the database (`orchestrator keys`); `API_KEYS` stay.
  void set_stored_keys(const std::vector<hashed_api_key>& keys);

  /// Handles one request (the server's `handler` signature).
  void operator()(request&& req, const request_context& ctx, responder respond);

  /// A `handler` that calls this gateway, which must outlive the server using it.
  handler as_handler();

  /// For `server_config::on_connection_refused`: counts in `api_connections_refused_total`.
  std::function<void()> connection_refused_counter();

private:
  struct exchange;

  responder finish_with(responder respond, std::shared_ptr<const exchange> x);
  void serve_ready(const request& req, request_context& ctx, responder respond);
  void serve_metrics(const request& req, responder respond);

  router router_;
  authenticator auth_;
  cors_policy cors_;
  rate_limiter limiter_;
  auth_failure_limiter auth_failures_;
  clock_function now_;
  prometheus::Registry& registry_;
  http_metrics metrics_;
  std::vector<std::pair<std::string, readiness_check>> checks_;
};

} // namespace orch::http
