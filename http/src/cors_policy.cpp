#include "orch/http/cors_policy.hpp"

#include <algorithm>

namespace orch::http {

namespace {

/// Request fields a browser may send cross-origin besides the CORS-safelisted ones.
constexpr std::string_view allowed_headers
  = "Authorization, Content-Type, X-API-Key, X-Request-ID, Idempotency-Key, Last-Event-ID";

/// Response fields a cross-origin script may read.
constexpr std::string_view exposed_headers = "X-Request-ID, Location, Retry-After, "
                                             "RateLimit-Limit, RateLimit-Remaining, "
                                             "RateLimit-Reset";

boost::beast::string_view bsv(std::string_view x) {
  return {x.data(), x.size()};
}

std::string_view ssv(boost::beast::string_view x) {
  return {x.data(), x.size()};
}

} // namespace

cors_policy::cors_policy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool cors_policy::allows(std::string_view origin) const noexcept {
  if (origin.empty()) return false;
  return any_ || std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool cors_policy::is_preflight(const request& req) {
  return req.method() == beast_http::verb::options
         && req.find(beast_http::field::origin) != req.end()
         && req.find(beast_http::field::access_control_request_method) != req.end();
}

response cors_policy::preflight(const request& req, std::string_view allowed_methods) const {
  response res{beast_http::status::no_content, req.version()};
  auto origin = ssv(req[beast_http::field::origin]);
  decorate(origin, res);
  if (allows(origin)) {
    res.set(beast_http::field::access_control_allow_methods, bsv(allowed_methods));
    res.set(beast_http::field::access_control_allow_headers, bsv(allowed_headers));
    res.set(beast_http::field::access_control_max_age, "600");
  }
  return res;
}

void cors_policy::decorate(std::string_view origin, response& res) const {
  if (origins_.empty()) return;
  // Caches must not hand one origin's answer to another.
  res.set(beast_http::field::vary, "Origin");
  if (!allows(origin)) return;
  res.set(beast_http::field::access_control_allow_origin, any_ ? "*" : bsv(origin));
  res.set(beast_http::field::access_control_expose_headers, bsv(exposed_headers));
}

} // namespace orch::http
