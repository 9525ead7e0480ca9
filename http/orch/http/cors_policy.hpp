#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orch/http/server.hpp"

namespace orch::http {

/// Cross-origin resource sharing for browsers (the web UI on another origin). Origins come from
/// `CORS_ORIGINS`; `*` allows any. With no origins configured, no CORS header is ever sent.
class cors_policy {
public:
  explicit cors_policy(std::vector<std::string> origins);

  /// `true` if responses may be shared with `origin`.
  bool allows(std::string_view origin) const noexcept;

  /// `true` if `req` is a preflight: OPTIONS with `Origin` and `Access-Control-Request-Method`.
  static bool is_preflight(const request& req);

  /// The 204 answer to a preflight for a path that allows `allowed_methods` (an `Allow`
  /// value). Carries the `Access-Control-Allow-*` fields only for an allowed origin.
  response preflight(const request& req, std::string_view allowed_methods) const;

  /// Adds `Access-Control-Allow-Origin`, `Access-Control-Expose-Headers` and `Vary: Origin` to
  /// the answer to a request from `origin` (empty when the request had none).
  void decorate(std::string_view origin, response& res) const;

private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

} // namespace orch::http
