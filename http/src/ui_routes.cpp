#include "orch/http/ui_routes.hpp"

#include <algorithm>
#include <string>

#include "orch/http/problem.hpp"

namespace orch::http {

namespace {

using beast_http::status;
using beast_http::verb;

std::string_view ssv(boost::beast::string_view x) {
  return {x.data(), x.size()};
}

boost::beast::string_view bsv(std::string_view x) {
  return {x.data(), x.size()};
}

/// Whether an `If-None-Match` value names `etag` (a list of tags, or `*`). Weak comparison,
/// as RFC 9110 asks for `If-None-Match`: a `W/` prefix does not matter.
bool none_match_hits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

void set_security_fields(response& res) {
  res.set("Content-Security-Policy", bsv(ui_content_security_policy));
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
}

void serve_asset(const request& req, const ui_asset& asset, responder& respond) {
  auto hit = none_match_hits(ssv(req[beast_http::field::if_none_match]), asset.etag);
  response res{hit ? status::not_modified : status::ok, req.version()};
  res.set(beast_http::field::etag, bsv(asset.etag));
  res.set(beast_http::field::cache_control, "no-cache");
  set_security_fields(res);
  if (!hit) {
    res.set(beast_http::field::content_type, bsv(asset.media_type));
    res.body() = std::string{asset.body};
  }
  respond(std::move(res));
}

const ui_asset* find_asset(std::string_view name) {
  const auto& assets = ui_assets();
  auto it = std::find_if(assets.begin(), assets.end(),
                         [name](const ui_asset& a) { return a.name == name; });
  return it == assets.end() ? nullptr : &*it;
}

} // namespace

void add_ui_routes(gateway& gw) {
  gw.add_route(
    verb::get, "/ui",
    [](const request& req, const route_match& match, request_context&, responder respond) {
      // The router ignores a trailing slash; the page's relative URLs do not.
      if (match.path == "/ui") {
        response res{status::permanent_redirect, req.version()};
        res.set(beast_http::field::location, "/ui/");
        return respond(std::move(res));
      }
      serve_asset(req, *find_asset("index.html"), respond);
    });
  gw.add_route(
    verb::get, "/ui/{name*}",
    [](const request& req, const route_match& match, request_context& ctx, responder respond) {
      const auto* asset = find_asset(match.param("name"));
      if (asset == nullptr)
        return respond(
          make_problem_response(status::not_found, "no such file of the web UI", req, ctx));
      serve_asset(req, *asset, respond);
    });
}

} // namespace orch::http
