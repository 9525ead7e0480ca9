#include "orch/http/http_metrics.hpp"

#include <string>

namespace orch::http {

namespace {

/// From 1 ms (a cached GET) to 10 s (a request waiting on a slow database).
const prometheus::Histogram::BucketBoundaries& duration_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

} // namespace

http_metrics::http_metrics(prometheus::Registry& registry)
  : request_duration(prometheus::BuildHistogram()
                       .Name("api_request_duration_seconds")
                       .Help("Time from reading a request to handing over its response, by "
                             "route pattern and method")
                       .Register(registry)),
    requests(prometheus::BuildCounter()
               .Name("api_requests_total")
               .Help("Answered requests, by route pattern, method and status code")
               .Register(registry)),
    auth_failures(prometheus::BuildCounter()
                    .Name("api_auth_failures_total")
                    .Help("Requests refused with 401: no API key or an unknown one")
                    .Register(registry)
                    .Add({})),
    auth_blocked(prometheus::BuildCounter()
                   .Name("api_auth_blocked_total")
                   .Help("Requests refused with 429 because their client address failed to "
                         "authenticate AUTH_FAILURES_PER_MINUTE times within a minute")
                   .Register(registry)
                   .Add({})),
    connections_refused(prometheus::BuildCounter()
                          .Name("api_connections_refused_total")
                          .Help("Connections answered 503 and closed because "
                                "API_MAX_CONNECTIONS were open")
                          .Register(registry)
                          .Add({})) {
  // nop
}

void http_metrics::observe_request(std::string_view endpoint, std::string_view method,
                                   unsigned status, double seconds) {
  // Family::Add returns the existing series for known labels; it locks internally.
  request_duration
    .Add({{"endpoint", std::string{endpoint}}, {"method", std::string{method}}}, duration_buckets())
    .Observe(seconds);
  requests
    .Add({{"endpoint", std::string{endpoint}},
          {"method", std::string{method}},
          {"status", std::to_string(status)}})
    .Increment();
}

} // namespace orch::http
