#include "orch/openstack/errors.hpp"

#include <set>

#include <boost/test/unit_test.hpp>

#include "fake_transport.hpp"
#include "orch/errc.hpp"

using namespace orch::openstack;
using orch::openstack::testing::read_sample;

namespace {

os_error classify_sample(service svc, int status, const std::string& file,
                         http_headers headers = {}) {
  return classify(svc, status, headers, read_sample(file));
}

} // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(nova_item_not_found_is_not_found_with_fault_name_and_message) {
  auto err = classify_sample(service::compute, 404, "nova/error-404-itemNotFound.json",
                             {{"x-openstack-request-id", "req-1"}});
  BOOST_TEST(to_string(err.kind) == "not_found");
  BOOST_TEST(err.http_status == 404);
  BOOST_TEST(err.code == "itemNotFound");
  BOOST_TEST(err.message == "Aggregate agg_h1 could not be found.");
  BOOST_TEST(err.request_id == "req-1");
}

BOOST_AUTO_TEST_CASE(nova_forbidden_quota_is_quota) {
  auto err = classify_sample(service::compute, 403, "nova/error-403-forbidden-quota.json");
  BOOST_TEST(to_string(err.kind) == "quota");
  BOOST_TEST(err.code == "forbidden");
}

BOOST_AUTO_TEST_CASE(a_403_without_quota_is_auth) {
  auto err = classify(service::compute, 403, {},
                      R"({"forbidden": {"code": 403, "message": "Policy doesn't allow it"}})");
  BOOST_TEST(to_string(err.kind) == "auth");
}

BOOST_AUTO_TEST_CASE(nova_bad_request_conflict_and_version_errors) {
  BOOST_TEST(
    to_string(classify_sample(service::compute, 400, "nova/error-400-badRequest.json").kind)
    == "bad_request");
  auto conflict = classify_sample(service::compute, 409, "nova/error-409-conflictingRequest.json");
  BOOST_TEST(to_string(conflict.kind) == "conflict");
  BOOST_TEST(conflict.code == "conflictingRequest");
  auto version
    = classify_sample(service::compute, 406, "nova/error-406-version-not-acceptable.json");
  BOOST_TEST(to_string(version.kind) == "bad_request");
  BOOST_TEST(version.code == "computeFault");
}

BOOST_AUTO_TEST_CASE(neutron_over_quota_409_is_quota_and_in_use_409s_are_conflicts) {
  auto quota = classify_sample(service::network, 409, "neutron/error-409-OverQuota.json");
  BOOST_TEST(to_string(quota.kind) == "quota");
  BOOST_TEST(quota.code == "OverQuota");
  for (auto file : {"neutron/error-409-NetworkInUse.json", "neutron/error-409-SubnetInUse.json",
                    "neutron/error-409-RouterInUse.json"}) {
    auto err = classify_sample(service::network, 409, file);
    BOOST_TEST(to_string(err.kind) == "conflict", file);
  }
  auto in_use = classify_sample(service::network, 409, "neutron/error-409-NetworkInUse.json");
  BOOST_TEST(in_use.code == "NetworkInUse");
  BOOST_TEST(in_use.message.find("2dc46bcc") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(neutron_not_found_is_not_found) {
  auto err = classify_sample(service::network, 404, "neutron/error-404-NetworkNotFound.json");
  BOOST_TEST(to_string(err.kind) == "not_found");
  BOOST_TEST(err.code == "NetworkNotFound");
}

BOOST_AUTO_TEST_CASE(cinder_413_with_retry_after_zero_is_quota) {
  auto err = classify_sample(service::block_storage, 413, "cinder/error-413-overLimit-quota.json",
                             {{"Retry-After", "0"}});
  BOOST_TEST(to_string(err.kind) == "quota");
  BOOST_TEST(err.code == "overLimit");
  BOOST_TEST(!err.retry_after.has_value());
}

BOOST_AUTO_TEST_CASE(a_413_with_positive_retry_after_is_rate_limited) {
  auto err = classify(service::block_storage, 413, {{"Retry-After", "12"}},
                      R"({"overLimit": {"code": 413, "message": "slow down"}})");
  BOOST_TEST(to_string(err.kind) == "rate_limited");
  BOOST_REQUIRE(err.retry_after.has_value());
  BOOST_TEST(err.retry_after->count() == 12'000);
  auto by_body = classify(service::compute, 413, {},
                          R"({"overLimit": {"code": 413, "message": "x", "retryAfter": "3"}})");
  BOOST_TEST(to_string(by_body.kind) == "rate_limited");
  BOOST_TEST(by_body.retry_after->count() == 3'000);
}

BOOST_AUTO_TEST_CASE(a_429_is_rate_limited_even_with_an_html_body) {
  auto err = classify(service::compute, 429, {{"Retry-After", "5"}},
                      "<html><body>Too Many Requests</body></html>");
  BOOST_TEST(to_string(err.kind) == "rate_limited");
  BOOST_TEST(err.retry_after->count() == 5'000);
  BOOST_TEST(err.message.find("Too Many Requests") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(retry_after_http_date_is_measured_against_the_date_header) {
  auto err = classify(
    service::compute, 429,
    {{"Date", "Wed, 21 Oct 2026 07:28:00 GMT"}, {"Retry-After", "Wed, 21 Oct 2026 07:28:30 GMT"}},
    "");
  BOOST_REQUIRE(err.retry_after.has_value());
  BOOST_TEST(err.retry_after->count() == 30'000);
}

BOOST_AUTO_TEST_CASE(keystone_401_is_auth_and_5xx_are_transient) {
  auto err = classify_sample(service::identity, 401, "keystone/error-401-unauthorized.json");
  BOOST_TEST(to_string(err.kind) == "auth");
  BOOST_TEST(err.code == "Unauthorized");
  for (int status : {500, 502, 503, 504})
    BOOST_TEST(to_string(classify(service::compute, status, {}, "").kind) == "transient");
  BOOST_TEST(to_string(classify(service::compute, 501, {}, "").kind) == "bad_request");
}

BOOST_AUTO_TEST_CASE(transport_failures_are_transient_except_a_too_large_answer) {
  BOOST_TEST(to_string(classify(transport_failure{transport_error::timeout, "t"}).kind)
             == "transient");
  BOOST_TEST(to_string(classify(transport_failure{transport_error::response_too_large, ""}).kind)
             == "bad_request");
}

BOOST_AUTO_TEST_CASE(long_messages_are_truncated) {
  std::string body
    = R"({"badRequest": {"code": 400, "message": ")" + std::string(5000, 'x') + R"("}})";
  auto err = classify(service::compute, 400, {}, body);
  BOOST_TEST(err.message.size() < 600u);
}

BOOST_AUTO_TEST_CASE(to_caf_error_maps_kinds_onto_orch_errc) {
  os_error err;
  err.kind = os_error_kind::quota;
  BOOST_TEST(orch::is(to_caf_error(err), orch::errc::forbidden));
  err.kind = os_error_kind::outcome_unknown;
  BOOST_TEST(orch::is(to_caf_error(err), orch::errc::unavailable));
  err.kind = os_error_kind::not_found;
  BOOST_TEST(orch::is(to_caf_error(err), orch::errc::not_found));
}

BOOST_AUTO_TEST_CASE(every_kind_has_a_distinct_name) {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(os_error_kind::malformed_response); ++i)
    names.insert(to_string(static_cast<os_error_kind>(i)));
  BOOST_TEST(names.size() == 11u);
  BOOST_TEST(names.count("unknown") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
