#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "orch/http/server.hpp"

namespace orch::http {

class route_match;

/// Handles a request that matched a route. May answer asynchronously through `respond`; `match`
/// and `ctx` live only until it returns, so an asynchronous handler copies what it needs.
using route_handler = std::function<void(const request& req, const route_match& match,
                                         request_context& ctx, responder respond)>;

/// How a request target fared against the route table.
enum class match_status {
  /// A route and a method matched.
  found,
  /// No route has this path.
  not_found,
  /// A route has this path but not this method; `route_match::allow` lists the methods.
  method_not_allowed,
};

/// Percent-decodes `text`; with `plus_is_space`, also turns `+` into a space (query strings).
/// `nullopt` if a `%` is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

/// Splits a query string (`a=1&b=x%20y`) into decoded pairs, in order. A pair that does not
/// decode is skipped; a key without `=` has an empty value.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

/// The outcome of `router::match`.
class route_match {
public:
  match_status status = match_status::not_found;

  /// The matched route's pattern (e.g. `/templates/{id}`), also for `method_not_allowed`;
  /// empty for `not_found`. Used as the metrics `endpoint` label.
  std::string pattern;

  /// The request path without its query string, as received (not decoded).
  std::string path;

  /// Captured path parameters, percent-decoded, in pattern order.
  std::vector<std::pair<std::string, std::string>> params;

  /// The decoded query string, in order.
  std::vector<std::pair<std::string, std::string>> query;

  /// For `method_not_allowed`: the methods the path allows, as an `Allow` header value.
  std::string allow;

  /// For `found`: the handler to run. Points into the router, which must outlive the match.
  const route_handler* handler = nullptr;

  /// The captured path parameter `name`, or an empty string.
  std::string_view param(std::string_view name) const noexcept;

  /// The first value of query parameter `name`, or `nullopt`.
  std::optional<std::string_view> query_param(std::string_view name) const noexcept;
};

/// A route table of path templates. A pattern is a path of literal segments and `{name}`
/// segments (one whole segment each); a last segment `{name*}` captures the rest of the path,
/// slashes included. Literal segments win over parameters, parameters over a rest capture. A
/// trailing slash in the request path is ignored. A GET route also answers HEAD.
class router {
public:
  /// Adds `fn` for `method` on `pattern`. Throws `std::invalid_argument` for a malformed
  /// pattern or a method already registered on the same pattern.
  void add(boost::beast::http::verb method, const std::string& pattern, route_handler fn);

  /// Matches a request target (path and optional query string).
  route_match match(boost::beast::http::verb method, std::string_view target) const;

  /// Every (method, pattern) pair, in the order added; for the OpenAPI consistency test.
  std::vector<std::pair<boost::beast::http::verb, std::string>> routes() const;

private:
  struct segment {
    enum kind_t { rest = 0, param = 1, literal = 2 } kind;
    std::string text;
  };

  struct entry {
    std::string pattern;
    std::vector<segment> segments;
    std::vector<std::pair<boost::beast::http::verb, route_handler>> methods;
  };

  static bool matches(const entry& e, const std::vector<std::string_view>& parts);

  std::vector<entry> entries_;
  std::vector<std::pair<boost::beast::http::verb, std::string>> order_;
};

} // namespace orch::http
