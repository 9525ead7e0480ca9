#include "orch/http/router.hpp"

#include <stdexcept>

#include <boost/test/unit_test.hpp>

#include "orch/testing/printers.hpp"

namespace bhttp = boost::beast::http;
using orch::http::match_status;
using orch::http::route_match;

namespace {

/// A route table whose handlers answer with their own name, so a test can tell them apart.
struct router_fixture {
  router_fixture() {
    add(bhttp::verb::get, "/templates", "list");
    add(bhttp::verb::post, "/templates", "create");
    add(bhttp::verb::get, "/templates/{id}", "read");
    add(bhttp::verb::put, "/templates/{id}", "replace");
    add(bhttp::verb::delete_, "/templates/{id}", "delete");
    add(bhttp::verb::get, "/templates/defaults", "defaults");
    add(bhttp::verb::get, "/deployments/{id}/events", "events");
    add(bhttp::verb::get, "/ui/{path*}", "ui");
    add(bhttp::verb::get, "/health", "health");
  }

  void add(bhttp::verb method, const std::string& pattern, std::string name) {
    uut.add(method, pattern,
            [name](const orch::http::request&, const route_match&, orch::http::request_context&,
                   orch::http::responder respond) {
              orch::http::response res{bhttp::status::ok, 11};
              res.body() = name;
              respond(std::move(res));
            });
  }

  /// The name of the handler `match` selected.
  static std::string handler_name(const route_match& match) {
    if (match.handler == nullptr) return "<none>";
    std::string name;
    orch::http::request req;
    orch::http::request_context ctx;
    (*match.handler)(req, match, ctx,
                     orch::http::responder{[&](orch::http::response res) { name = res.body(); }});
    return name;
  }

  orch::http::router uut;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(router, router_fixture)

BOOST_AUTO_TEST_CASE(matches_a_literal_route_by_method) {
  auto get = uut.match(bhttp::verb::get, "/templates");
  BOOST_TEST((get.status == match_status::found));
  BOOST_TEST(get.pattern == "/templates");
  BOOST_TEST(handler_name(get) == "list");
  BOOST_TEST(handler_name(uut.match(bhttp::verb::post, "/templates")) == "create");
}

BOOST_AUTO_TEST_CASE(captures_path_parameters) {
  auto match = uut.match(bhttp::verb::get, "/deployments/42/events");
  BOOST_TEST((match.status == match_status::found));
  BOOST_TEST(match.pattern == "/deployments/{id}/events");
  BOOST_TEST(match.param("id") == "42");
  BOOST_TEST(match.param("missing") == "");
}

BOOST_AUTO_TEST_CASE(prefers_a_literal_segment_over_a_parameter) {
  BOOST_TEST(handler_name(uut.match(bhttp::verb::get, "/templates/defaults")) == "defaults");
  BOOST_TEST(handler_name(uut.match(bhttp::verb::get, "/templates/other")) == "read");
}

BOOST_AUTO_TEST_CASE(reports_an_unknown_path_as_not_found) {
  for (auto target :
       {"/nope", "/templates/1/2", "/deployments/1", "", "*", "/deployments//events"}) {
    auto match = uut.match(bhttp::verb::get, target);
    BOOST_TEST((match.status == match_status::not_found), target);
    BOOST_TEST(match.pattern.empty());
    BOOST_TEST(match.handler == nullptr);
  }
}

BOOST_AUTO_TEST_CASE(reports_a_wrong_method_with_the_allowed_ones) {
  auto match = uut.match(bhttp::verb::patch, "/templates/abc");
  BOOST_TEST((match.status == match_status::method_not_allowed));
  BOOST_TEST(match.pattern == "/templates/{id}");
  BOOST_TEST(match.allow == "GET, HEAD, PUT, DELETE");
  BOOST_TEST(match.handler == nullptr);
  BOOST_TEST(uut.match(bhttp::verb::delete_, "/templates").allow == "GET, HEAD, POST");
}

BOOST_AUTO_TEST_CASE(answers_head_with_the_get_handler) {
  auto match = uut.match(bhttp::verb::head, "/health");
  BOOST_TEST((match.status == match_status::found));
  BOOST_TEST(handler_name(match) == "health");
}

BOOST_AUTO_TEST_CASE(ignores_a_trailing_slash) {
  BOOST_TEST(handler_name(uut.match(bhttp::verb::get, "/templates/")) == "list");
  auto match = uut.match(bhttp::verb::get, "/templates/abc/");
  BOOST_TEST(match.param("id") == "abc");
}

BOOST_AUTO_TEST_CASE(percent_decodes_parameters_after_splitting_the_path) {
  auto match = uut.match(bhttp::verb::get, "/templates/web%20app%2Fv2");
  BOOST_TEST((match.status == match_status::found));
  BOOST_TEST(match.param("id") == "web app/v2");
  BOOST_TEST(match.path == "/templates/web%20app%2Fv2");
}

BOOST_AUTO_TEST_CASE(rejects_a_broken_percent_encoding) {
  BOOST_TEST((uut.match(bhttp::verb::get, "/templates/%zz").status == match_status::not_found));
  BOOST_TEST((uut.match(bhttp::verb::get, "/templates/%4").status == match_status::not_found));
}

BOOST_AUTO_TEST_CASE(captures_the_rest_of_the_path) {
  auto match = uut.match(bhttp::verb::get, "/ui/assets/app.js");
  BOOST_TEST(handler_name(match) == "ui");
  BOOST_TEST(match.param("path") == "assets/app.js");
  BOOST_TEST((uut.match(bhttp::verb::get, "/ui").status == match_status::not_found));
}

BOOST_AUTO_TEST_CASE(parses_and_decodes_the_query_string) {
  auto match
    = uut.match(bhttp::verb::get, "/templates?name=web+app&limit=10&x=%26%3D&flag&limit=2");
  BOOST_TEST((match.status == match_status::found));
  BOOST_TEST(match.path == "/templates");
  BOOST_TEST(match.query_param("name").value_or("?") == "web app");
  BOOST_TEST(match.query_param("limit").value_or("?") == "10"); // the first one wins
  BOOST_TEST(match.query_param("x").value_or("?") == "&=");
  BOOST_TEST(match.query_param("flag").value_or("?") == "");
  BOOST_TEST(!match.query_param("absent"));
}

BOOST_AUTO_TEST_CASE(skips_query_pairs_that_do_not_decode) {
  auto query = orch::http::parse_query("a=%zz&b=2&=3&&");
  BOOST_TEST(query.size() == 1u);
  BOOST_TEST(query.at(0).first == "b");
}

BOOST_AUTO_TEST_CASE(lists_its_routes_in_order) {
  auto routes = uut.routes();
  BOOST_TEST(routes.size() == 9u);
  BOOST_TEST((routes.at(0).first == bhttp::verb::get));
  BOOST_TEST(routes.at(0).second == "/templates");
  BOOST_TEST((routes.at(4).first == bhttp::verb::delete_));
  BOOST_TEST(routes.at(4).second == "/templates/{id}");
}

BOOST_AUTO_TEST_CASE(rejects_malformed_patterns_and_duplicates) {
  auto nop = [](const orch::http::request&, const route_match&, orch::http::request_context&,
                orch::http::responder) {};
  for (auto pattern : {"", "templates", "/a/{id", "/a/x{id}", "/a/{}", "/a/{rest*}/b", "/a//b"})
    BOOST_CHECK_THROW(uut.add(bhttp::verb::get, pattern, nop), std::invalid_argument);
  BOOST_CHECK_THROW(uut.add(bhttp::verb::get, "/templates", nop), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
