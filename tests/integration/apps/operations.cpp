#include <string>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::field;
using boost::beast::http::verb;

BOOST_FIXTURE_TEST_SUITE(operations, orchestrator_fixture)

BOOST_AUTO_TEST_CASE(health_answers_ok) {
  auto res = call(verb::get, "/health", {}, "");
  BOOST_TEST(res.result_int() == 200);
  BOOST_TEST(parse_json(res.body())["status"].GetString() == std::string{"ok"});
}

BOOST_AUTO_TEST_CASE(readiness_reports_the_database) {
  auto res = call(verb::get, "/health/ready", {}, "");
  BOOST_TEST_REQUIRE(res.result_int() == 200);
  auto doc = parse_json(res.body());
  BOOST_TEST(doc["status"].GetString() == std::string{"ready"});
  BOOST_TEST(doc["checks"]["database"].GetString() == std::string{"ok"});
}

BOOST_AUTO_TEST_CASE(metrics_label_requests_by_route_pattern_never_by_raw_path) {
  call(verb::post, "/templates", example("web-app-stack.json"));
  call(verb::get, "/templates/web-app-stack", {}, read_key);
  call(verb::get, "/templates/some-other-name", {}, read_key);
  auto res = call(verb::get, "/metrics", {}, "");
  BOOST_TEST_REQUIRE(res.result_int() == 200);
  BOOST_TEST(std::string{res[field::content_type]}.find("text/plain") == 0u);
  const auto& text = res.body();
  BOOST_TEST(text.find("# TYPE api_request_duration_seconds histogram") != std::string::npos);
  BOOST_TEST(text.find(R"(endpoint="/templates/{id_or_name}")") != std::string::npos);
  BOOST_TEST(text.find(R"(endpoint="/templates")") != std::string::npos);
  BOOST_TEST(text.find("web-app-stack") == std::string::npos);
  BOOST_TEST(text.find("some-other-name") == std::string::npos);
  BOOST_TEST(text.find("# TYPE database_query_duration_seconds histogram") != std::string::npos);
  BOOST_TEST(text.find("database_query_duration_seconds_count{operation=") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_openapi_document_is_served) {
  auto res = call(verb::get, "/openapi.json", {}, "");
  BOOST_TEST_REQUIRE(res.result_int() == 200);
  auto doc = parse_json(res.body());
  BOOST_TEST(std::string{doc["openapi"].GetString()}.rfind("3.1", 0) == 0u);
  BOOST_TEST(doc["paths"].HasMember("/templates"));
  BOOST_TEST(doc["paths"].HasMember("/deployments/{id}"));
}

BOOST_AUTO_TEST_CASE(log_lines_are_json_with_the_request_id) {
  call(verb::get, "/templates", {}, read_key, {{"X-Request-ID", "trace-me-42"}});
  BOOST_TEST_REQUIRE(process().wait_for_log("trace-me-42", std::chrono::seconds{5}));
  auto log = process().log();
  auto at = log.find("trace-me-42");
  auto begin = log.rfind('\n', at);
  auto end = log.find('\n', at);
  auto line = log.substr(begin == std::string::npos ? 0 : begin + 1,
                         end == std::string::npos ? std::string::npos : end - begin - 1);
  auto doc = parse_json(line);
  BOOST_TEST(doc["request_id"].GetString() == std::string{"trace-me-42"});
  BOOST_TEST(doc.HasMember("time"));
  BOOST_TEST(doc.HasMember("level"));
  BOOST_TEST(doc.HasMember("message"));
}

BOOST_AUTO_TEST_SUITE_END()
