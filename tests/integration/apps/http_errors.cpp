#include <string>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::field;
using boost::beast::http::verb;

BOOST_FIXTURE_TEST_SUITE(http_errors, orchestrator_fixture)

BOOST_AUTO_TEST_CASE(a_body_that_is_not_json_is_400) {
  auto res = call(verb::post, "/templates", "{not json");
  BOOST_TEST(res.result_int() == 400);
  BOOST_TEST(std::string{res[field::content_type]} == "application/problem+json");
  auto doc = parse_json(res.body());
  BOOST_TEST(doc["status"].GetInt() == 400);
  BOOST_TEST(doc["type"].GetString() == std::string{"about:blank"});
  BOOST_TEST(call(verb::post, "/templates", "[1,2]").result_int() == 400);
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_json_typed_is_415) {
  auto res = call(verb::post, "/templates", "name=x", write_key, {{"Content-Type", "text/plain"}});
  BOOST_TEST(res.result_int() == 415);
}

BOOST_AUTO_TEST_CASE(an_unknown_route_is_a_404_problem) {
  auto res = call(verb::get, "/nothing/here");
  BOOST_TEST(res.result_int() == 404);
  BOOST_TEST(parse_json(res.body())["status"].GetInt() == 404);
}

BOOST_AUTO_TEST_CASE(a_wrong_method_is_405_with_allow) {
  auto res = call(verb::patch, "/templates", "{}");
  BOOST_TEST(res.result_int() == 405);
  std::string allow{res[field::allow]};
  BOOST_TEST(allow.find("GET") != std::string::npos);
  BOOST_TEST(allow.find("POST") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_request_id_is_echoed_or_generated) {
  auto echoed = call(verb::get, "/templates", {}, read_key, {{"X-Request-ID", "abc-123"}});
  BOOST_TEST(std::string{echoed["X-Request-ID"]} == "abc-123");
  auto bad = call(verb::get, "/templates", {}, read_key, {{"X-Request-ID", "bad id with spaces"}});
  BOOST_TEST(std::string{bad["X-Request-ID"]} != "bad id with spaces");
  BOOST_TEST(std::string{bad["X-Request-ID"]}.size() == 36u);
  // The same id is in the log line of the request.
  BOOST_TEST(process().wait_for_log("abc-123", std::chrono::seconds{5}));
}

BOOST_AUTO_TEST_SUITE_END()
