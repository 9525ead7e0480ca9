#include "orch/http/problem.hpp"

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <caf/sec.hpp>

#include "orch/errc.hpp"
#include "orch/testing/printers.hpp"

namespace bhttp = boost::beast::http;
using orch::errc;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  BOOST_REQUIRE(!doc.HasParseError());
  BOOST_REQUIRE(doc.IsObject());
  return doc;
}

} // namespace

BOOST_AUTO_TEST_SUITE(problem)

BOOST_AUTO_TEST_CASE(has_every_rfc_9457_member) {
  orch::http::problem p;
  p.status = bhttp::status::unprocessable_entity;
  p.detail = "parameters.web_count must be an integer >= 0";
  p.errors.push_back({"parameters.web_count", "must be an integer >= 0"});
  p.errors.push_back({"name", "must not be empty"});
  auto res = orch::http::make_problem_response(p, "/deployments?dry_run=true", "req-1");
  BOOST_TEST(res.result() == bhttp::status::unprocessable_entity);
  BOOST_TEST(res[bhttp::field::content_type] == "application/problem+json");
  BOOST_TEST(res[bhttp::field::content_length] == std::to_string(res.body().size()));
  auto doc = parse(res.body());
  BOOST_TEST(doc["type"].GetString() == "about:blank");
  BOOST_TEST(doc["title"].GetString() == std::string{"Unprocessable Content"});
  BOOST_TEST(doc["status"].GetInt() == 422);
  BOOST_TEST(doc["detail"].GetString() == p.detail);
  BOOST_TEST(doc["instance"].GetString() == "/deployments");
  BOOST_TEST(doc["request_id"].GetString() == "req-1");
  BOOST_REQUIRE(doc["errors"].IsArray());
  BOOST_REQUIRE(doc["errors"].Size() == 2u);
  BOOST_TEST(doc["errors"][0]["field"].GetString() == "parameters.web_count");
  BOOST_TEST(doc["errors"][1]["message"].GetString() == "must not be empty");
}

BOOST_AUTO_TEST_CASE(leaves_out_empty_optional_members) {
  orch::http::problem p;
  p.status = bhttp::status::not_found;
  auto doc = parse(orch::http::make_problem_response(p, "/x", "").body());
  BOOST_TEST(!doc.HasMember("detail"));
  BOOST_TEST(!doc.HasMember("errors"));
  BOOST_TEST(!doc.HasMember("request_id"));
  BOOST_TEST(doc["title"].GetString() == "Not Found");
}

BOOST_AUTO_TEST_CASE(escapes_text_properly) {
  orch::http::problem p;
  p.status = bhttp::status::bad_request;
  p.detail = "quote \" backslash \\ newline \n control \x01";
  auto res = orch::http::make_problem_response(p, "/a\"b", "id");
  auto doc = parse(res.body());
  BOOST_TEST(doc["detail"].GetString() == p.detail);
  BOOST_TEST(doc["instance"].GetString() == "/a\"b");
}

BOOST_AUTO_TEST_CASE(passes_headers_through) {
  orch::http::problem p;
  p.status = bhttp::status::method_not_allowed;
  p.headers.emplace_back(bhttp::field::allow, "GET, HEAD");
  auto res = orch::http::make_problem_response(p, "/health", "id");
  BOOST_TEST(res[bhttp::field::allow] == "GET, HEAD");
}

BOOST_AUTO_TEST_CASE(answers_the_servers_own_errors_as_problems) {
  auto res = orch::http::make_server_error_response(
    {bhttp::status::request_header_fields_too_large, "request header too large", 10, {}, {}});
  BOOST_TEST(res.version() == 10u);
  BOOST_TEST(res[bhttp::field::content_type] == "application/problem+json");
  auto doc = parse(res.body());
  BOOST_TEST(doc["status"].GetInt() == 431);
  BOOST_TEST(doc["detail"].GetString() == "request header too large");
  BOOST_TEST(!doc.HasMember("instance"));
  // Every problem has a request id, the header was never read: a fresh one.
  BOOST_REQUIRE(doc.HasMember("request_id"));
  std::string id = doc["request_id"].GetString();
  BOOST_TEST(id.size() == 36u);
  BOOST_TEST(res["X-Request-ID"] == id);
}

BOOST_AUTO_TEST_CASE(a_server_error_keeps_the_clients_request_id_and_target) {
  auto res = orch::http::make_server_error_response({bhttp::status::payload_too_large,
                                                     "request body too large", 11, "client-42",
                                                     "/templates?x=1"});
  auto doc = parse(res.body());
  BOOST_TEST(doc["status"].GetInt() == 413);
  BOOST_TEST(doc["request_id"].GetString() == "client-42");
  BOOST_TEST(doc["instance"].GetString() == "/templates");
  BOOST_TEST(res["X-Request-ID"] == "client-42");
  // An id that could forge a header or a log line is replaced.
  auto forged = orch::http::make_server_error_response(
    {bhttp::status::payload_too_large, "request body too large", 11, "a b\"c", {}});
  BOOST_TEST(parse(forged.body())["request_id"].GetString() != std::string{"a b\"c"});
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_told_when_to_retry) {
  auto res = orch::http::make_server_error_response(
    {bhttp::status::service_unavailable, "too many connections; retry later", 11, {}, {}});
  BOOST_TEST(res.result_int() == 503);
  BOOST_TEST(!res[bhttp::field::retry_after].empty());
}

BOOST_AUTO_TEST_CASE(maps_each_domain_error_to_its_status) {
  using s = bhttp::status;
  std::pair<errc, s> cases[] = {
    {errc::invalid_spec, s::unprocessable_entity},
    {errc::not_found, s::not_found},
    {errc::conflict, s::conflict},
    {errc::store_unavailable, s::service_unavailable},
    {errc::unavailable, s::service_unavailable},
    {errc::unauthenticated, s::unauthorized},
    {errc::forbidden, s::forbidden},
    {errc::rate_limited, s::too_many_requests},
    {errc::payload_too_large, s::payload_too_large},
    {errc::unsupported_media_type, s::unsupported_media_type},
    {errc::malformed_request, s::bad_request},
    {errc::internal, s::internal_server_error},
    {errc::invalid_config, s::internal_server_error},
  };
  for (auto [code, status] : cases)
    BOOST_TEST(orch::http::to_status(orch::make_error(code)) == status, orch::to_string(code));
  BOOST_TEST(orch::http::to_status(caf::sec::request_timeout) == s::service_unavailable);
  BOOST_TEST(orch::http::to_status(caf::sec::request_receiver_down) == s::service_unavailable);
  BOOST_TEST(orch::http::to_status(caf::sec::unexpected_message) == s::internal_server_error);
}

BOOST_AUTO_TEST_CASE(shows_the_domain_detail_of_a_client_error) {
  auto p = orch::http::to_problem(orch::make_error(errc::conflict, "name my-app is taken"));
  BOOST_TEST(p.status == bhttp::status::conflict);
  BOOST_TEST(p.detail == "name my-app is taken");
}

BOOST_AUTO_TEST_CASE(never_shows_the_internals_of_a_server_error) {
  auto p = orch::http::to_problem(orch::make_error(errc::internal, "null pointer in vm_fsm"));
  BOOST_TEST(p.status == bhttp::status::internal_server_error);
  BOOST_TEST(p.detail.find("vm_fsm") == std::string::npos);
  auto db = orch::http::to_problem(
    orch::make_error(errc::store_unavailable, "could not connect to postgres://u:pw@db"));
  BOOST_TEST(db.detail.find("pw") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(asks_to_retry_a_503_and_to_authenticate_a_401) {
  auto unavailable = orch::http::to_problem(orch::make_error(errc::store_unavailable));
  BOOST_REQUIRE(unavailable.headers.size() == 1u);
  BOOST_TEST((unavailable.headers[0].first == bhttp::field::retry_after));
  auto unauthenticated = orch::http::to_problem(orch::make_error(errc::unauthenticated));
  BOOST_REQUIRE(unauthenticated.headers.size() == 1u);
  BOOST_TEST((unauthenticated.headers[0].first == bhttp::field::www_authenticate));
  BOOST_TEST(unauthenticated.headers[0].second == "Bearer");
}

BOOST_AUTO_TEST_SUITE_END()
