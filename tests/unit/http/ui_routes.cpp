#include "orch/http/ui_routes.hpp"

#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>
#include <prometheus/registry.h>

#include "orch/http/gateway.hpp"
#include "orch/testing/http_client.hpp"

namespace bhttp = boost::beast::http;
using orch::http::request;
using orch::http::request_context;
using orch::http::responder;
using orch::http::response;
using orch::testing::header_list;

namespace {

struct ui_fixture {
  ui_fixture() : uut(config(), registry) { orch::http::add_ui_routes(uut); }

  static orch::http::gateway_config config() {
    orch::http::gateway_config cfg;
    cfg.keys = {{"write-key-0123456789", orch::api_scope::write}};
    return cfg;
  }

  response call(bhttp::verb method, std::string target, header_list headers = {}) {
    request req{method, target, 11};
    for (auto& [name, value] : headers) req.set(name, value);
    req.prepare_payload();
    std::optional<response> got;
    uut(std::move(req), request_context{"127.0.0.1", {}, {}, false},
        responder{[&](response res) { got = std::move(res); }});
    BOOST_REQUIRE(got.has_value());
    return std::move(*got);
  }

  response get(std::string target, header_list headers = {}) {
    return call(bhttp::verb::get, std::move(target), std::move(headers));
  }

  prometheus::Registry registry;
  orch::http::gateway uut;
};

std::string field(const response& res, std::string_view name) {
  auto value = res[boost::beast::string_view{name.data(), name.size()}];
  return {value.data(), value.size()};
}

const orch::http::ui_asset& asset(std::string_view name) {
  for (const auto& a : orch::http::ui_assets())
    if (a.name == name) return a;
  BOOST_FAIL("no embedded asset " << name);
  throw std::logic_error{"unreachable"};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(ui_routes, ui_fixture)

BOOST_AUTO_TEST_CASE(serves_the_page_without_a_key_with_strict_security_fields) {
  auto res = get("/ui/");
  BOOST_TEST(res.result_int() == 200u);
  BOOST_TEST(field(res, "Content-Type") == "text/html; charset=utf-8");
  BOOST_TEST(res.body() == std::string{asset("index.html").body});
  BOOST_TEST(field(res, "Content-Security-Policy").find("script-src 'self'") != std::string::npos);
  BOOST_TEST(field(res, "Content-Security-Policy").find("unsafe") == std::string::npos);
  BOOST_TEST(field(res, "Content-Security-Policy").find("default-src 'none'") != std::string::npos);
  BOOST_TEST(field(res, "X-Content-Type-Options") == "nosniff");
  BOOST_TEST(field(res, "X-Frame-Options") == "DENY");
  BOOST_TEST(field(res, "Referrer-Policy") == "no-referrer");
  BOOST_TEST(field(res, "Cache-Control") == "no-cache");
  BOOST_TEST(field(res, "ETag") == std::string{asset("index.html").etag});
}

BOOST_AUTO_TEST_CASE(the_embedded_files_are_those_of_http_ui_byte_for_byte) {
  BOOST_TEST(orch::http::ui_assets().size() == 4u);
  for (const auto& a : orch::http::ui_assets()) {
    std::ifstream in{std::string{ORCH_UI_DIR "/"} + std::string{a.name}, std::ios::binary};
    BOOST_TEST_CONTEXT(a.name) {
      BOOST_REQUIRE(in);
      std::stringstream text;
      text << in.rdbuf();
      BOOST_TEST(text.str() == std::string{a.body});
    }
  }
}

BOOST_AUTO_TEST_CASE(serves_each_file_with_its_media_type) {
  struct row {
    const char* name;
    const char* media_type;
  };
  for (auto [name, media_type] :
       {row{"index.html", "text/html; charset=utf-8"},
        row{"app.js", "text/javascript; charset=utf-8"},
        row{"style.css", "text/css; charset=utf-8"}, row{"favicon.svg", "image/svg+xml"}}) {
    auto res = get(std::string{"/ui/"} + name);
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(res.result_int() == 200u);
      BOOST_TEST(field(res, "Content-Type") == media_type);
      BOOST_TEST(!res.body().empty());
      BOOST_TEST(res.body() == std::string{asset(name).body});
      BOOST_TEST(!field(res, "Content-Security-Policy").empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(an_etag_names_the_content_and_a_match_is_answered_304) {
  auto tag = std::string{asset("app.js").etag};
  BOOST_TEST(std::regex_match(tag, std::regex{R"("[0-9a-f]{32}")"}));
  BOOST_TEST(tag != std::string{asset("index.html").etag});
  auto res = get("/ui/app.js", {{"If-None-Match", "\"other\", W/" + tag}});
  BOOST_TEST(res.result_int() == 304u);
  BOOST_TEST(res.body().empty());
  BOOST_TEST(field(res, "ETag") == tag);
  BOOST_TEST(get("/ui/app.js", {{"If-None-Match", "\"other\""}}).result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(ui_without_slash_redirects_so_relative_links_resolve) {
  auto res = get("/ui");
  BOOST_TEST(res.result_int() == 308u);
  BOOST_TEST(field(res, "Location") == "/ui/");
}

BOOST_AUTO_TEST_CASE(only_embedded_files_are_served) {
  for (auto target : {"/ui/nope.js", "/ui/../openapi.json", "/ui/%2e%2e/etc/passwd",
                      "/ui/sub/app.js", "/ui/APP.JS"}) {
    auto res = get(target);
    BOOST_TEST_CONTEXT(target) {
      BOOST_TEST(res.result_int() == 404u);
      BOOST_TEST(field(res, "Content-Type") == "application/problem+json");
    }
  }
}

BOOST_AUTO_TEST_CASE(writing_to_the_ui_needs_a_key_like_any_other_route) {
  BOOST_TEST(call(bhttp::verb::post, "/ui/").result_int() == 401u);
  BOOST_TEST(call(bhttp::verb::post, "/ui/", {{"X-API-Key", "write-key-0123456789"}}).result_int()
             == 405u);
}

// The policy forbids inline code and other origins: a file that relied on either would break
// in the browser, so it is caught here first.
BOOST_AUTO_TEST_CASE(the_files_need_nothing_the_policy_forbids) {
  std::regex inline_script{R"(<script(?![^>]*\bsrc=)[^>]*>)", std::regex::icase};
  std::regex handler_or_style{R"(\s(on[a-z]+|style)\s*=)", std::regex::icase};
  std::regex elsewhere{R"((https?:)?//[a-z0-9.-]+\.[a-z]{2,})", std::regex::icase};
  for (const auto& a : orch::http::ui_assets()) {
    std::string text{a.body};
    BOOST_TEST_CONTEXT(a.name) {
      if (a.name.ends_with(".html")) {
        BOOST_TEST(!std::regex_search(text, inline_script));
        BOOST_TEST(!std::regex_search(text, handler_or_style));
      }
      // The SVG's XML namespace is a name, not a fetch.
      auto without_namespace = std::regex_replace(text, std::regex{R"(xmlns="[^"]*")"}, "");
      BOOST_TEST(!std::regex_search(without_namespace, elsewhere));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
