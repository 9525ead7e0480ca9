#include <string>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::field;
using boost::beast::http::verb;

namespace {

const std::string body
  = R"({"name":"auth","vm_config":{"web":{"flavor":"m1.small","image":"x","count":1}},)"
    R"("network_config":{"cidr":"10.0.0.0/16","subnets":{"web":"10.0.1.0/24"}}})";

} // namespace

BOOST_FIXTURE_TEST_SUITE(auth, orchestrator_fixture)

BOOST_AUTO_TEST_CASE(a_request_without_a_key_is_401_with_a_bearer_challenge) {
  auto res = call(verb::get, "/templates", {}, "");
  BOOST_TEST(res.result_int() == 401);
  BOOST_TEST(std::string{res[field::www_authenticate]}.find("Bearer") == 0u);
  BOOST_TEST(std::string{res[field::content_type]} == "application/problem+json");
  BOOST_TEST(!res["X-Request-ID"].empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_key_is_401) {
  BOOST_TEST(call(verb::get, "/templates", {}, "not-a-key").result_int() == 401);
  auto bearer = call(verb::get, "/templates", {}, "", {{"Authorization", "Bearer not-a-key"}});
  BOOST_TEST(bearer.result_int() == 401);
}

BOOST_AUTO_TEST_CASE(a_read_key_may_read_but_not_write) {
  BOOST_TEST(call(verb::get, "/templates", {}, read_key).result_int() == 200);
  auto post = call(verb::post, "/templates", body, read_key);
  BOOST_TEST(post.result_int() == 403);
  BOOST_TEST(call(verb::put, "/templates/auth", body, read_key).result_int() == 403);
  BOOST_TEST(call(verb::delete_, "/templates/auth", {}, read_key).result_int() == 403);
}

BOOST_AUTO_TEST_CASE(a_write_key_may_do_everything_with_either_header) {
  BOOST_TEST(call(verb::post, "/templates", body, write_key).result_int() == 201);
  auto bearer = call(verb::get, "/templates/auth", {}, "",
                     {{"Authorization", std::string{"Bearer "} + write_key}});
  BOOST_TEST(bearer.result_int() == 200);
  BOOST_TEST(call(verb::delete_, "/templates/auth", {}, write_key).result_int() == 204);
}

BOOST_AUTO_TEST_CASE(operational_routes_are_open) {
  BOOST_TEST(call(verb::get, "/health", {}, "").result_int() == 200);
  BOOST_TEST(call(verb::get, "/health/ready", {}, "").result_int() == 200);
  BOOST_TEST(call(verb::get, "/metrics", {}, "").result_int() == 200);
  BOOST_TEST(call(verb::get, "/openapi.json", {}, "").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(keyed_responses_carry_rate_limit_headers) {
  auto res = call(verb::get, "/templates", {}, read_key);
  BOOST_TEST(res[field::content_type].empty() == false);
  BOOST_TEST(std::string{res["RateLimit-Limit"]} == "100");
  BOOST_TEST(!res["RateLimit-Remaining"].empty());
  BOOST_TEST(!res["RateLimit-Reset"].empty());
}

BOOST_AUTO_TEST_CASE(keys_never_reach_the_log) {
  call(verb::get, "/templates", {}, read_key);
  call(verb::post, "/templates", body, write_key);
  call(verb::get, "/templates", {}, "", {{"Authorization", std::string{"Bearer "} + write_key}});
  auto log = process().log();
  BOOST_TEST(log.find("GET /templates") != std::string::npos);
  BOOST_TEST(log.find(write_key) == std::string::npos);
  BOOST_TEST(log.find(read_key) == std::string::npos);
  BOOST_TEST(log.find(secret_key) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
