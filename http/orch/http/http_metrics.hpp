#pragma once

#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace orch::http {

/// Every metric of the HTTP module, registered in the registry `apps/` passes in.
struct http_metrics {
  explicit http_metrics(prometheus::Registry& registry);

  /// Records one answered request. `endpoint` is the route pattern or `unmatched`.
  void observe_request(std::string_view endpoint, std::string_view method, unsigned status,
                       double seconds);

  /// `api_request_duration_seconds{endpoint,method}`.
  prometheus::Family<prometheus::Histogram>& request_duration;

  /// `api_requests_total{endpoint,method,status}`: the error ratio per route, which the
  /// duration histogram (no status label, to keep its series few) cannot give.
  prometheus::Family<prometheus::Counter>& requests;

  /// `api_auth_failures_total`: requests answered 401.
  prometheus::Counter& auth_failures;

  /// `api_auth_blocked_total`: requests answered 429 because their address failed to
  /// authenticate too often.
  prometheus::Counter& auth_blocked;

  /// `api_connections_refused_total`: connections answered 503 over `API_MAX_CONNECTIONS`.
  prometheus::Counter& connections_refused;
};

} // namespace orch::http
