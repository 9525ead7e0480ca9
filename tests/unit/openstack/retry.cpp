#include "orch/openstack/retry.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch::openstack;
using namespace std::chrono_literals;

namespace {

os_error error_of(os_error_kind kind, std::optional<std::chrono::milliseconds> after = {}) {
  os_error err;
  err.kind = kind;
  err.message = "boom";
  err.retry_after = after;
  return err;
}

retry_policy policy() {
  retry_policy p;
  p.max_attempts = 4;
  p.base_delay = 100ms;
  p.max_delay = 1000ms;
  p.deadline = 60s;
  return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(backoff_is_full_jitter_over_a_doubling_capped_ceiling) {
  auto p = policy();
  BOOST_TEST(backoff_delay(p, 1, 0.0).count() == 0);
  BOOST_TEST(backoff_delay(p, 1, 0.999).count() == 99);
  BOOST_TEST(backoff_delay(p, 2, 0.5).count() == 100);
  BOOST_TEST(backoff_delay(p, 3, 0.5).count() == 200);
  BOOST_TEST(backoff_delay(p, 10, 0.5).count() == 500);
  BOOST_TEST(backoff_delay(p, 1000, 0.999).count() == 999);
}

BOOST_AUTO_TEST_CASE(retry_after_parses_seconds_and_all_http_date_forms) {
  auto now = parse_http_date("Sun, 06 Nov 1994 08:49:00 GMT");
  BOOST_REQUIRE(now.has_value());
  BOOST_TEST(parse_retry_after("120", std::nullopt)->count() == 120'000);
  BOOST_TEST(parse_retry_after(" 0 ", std::nullopt)->count() == 0);
  BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now)->count() == 37'000);
  BOOST_TEST(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now)->count() == 37'000);
  BOOST_TEST(parse_retry_after("Sun Nov  6 08:49:37 1994", now)->count() == 37'000);
  BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:48:00 GMT", now)->count() == 0);
}

BOOST_AUTO_TEST_CASE(malformed_retry_after_values_are_rejected) {
  auto now = parse_http_date("Sun, 06 Nov 1994 08:49:00 GMT");
  BOOST_TEST(!parse_retry_after("", now));
  BOOST_TEST(!parse_retry_after("-5", now));
  BOOST_TEST(!parse_retry_after("1.5", now));
  BOOST_TEST(!parse_retry_after("soon", now));
  BOOST_TEST(!parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", std::nullopt));
  BOOST_TEST(!parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now));
  BOOST_TEST(!parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now));
  BOOST_TEST(parse_retry_after("99999999999999999999", now)->count() == 86'400'000);
}

BOOST_AUTO_TEST_CASE(methods_and_actions_are_classified_for_idempotency) {
  BOOST_TEST(is_idempotent("GET", "get"));
  BOOST_TEST(is_idempotent("DELETE", "delete_server"));
  BOOST_TEST(is_idempotent("PUT", "replace_tags"));
  BOOST_TEST(is_idempotent("POST", "authenticate"));
  BOOST_TEST(!is_idempotent("POST", "create_server"));
  BOOST_TEST(!is_idempotent("POST", "resize"));
  BOOST_TEST(!is_idempotent("POST", "confirm_resize"));
  BOOST_TEST(!is_idempotent("PUT", "add_router_interface"));
  BOOST_TEST(!is_idempotent("PUT", "remove_router_interface"));
}

BOOST_AUTO_TEST_CASE(idempotent_transient_failures_retry_until_max_attempts) {
  auto p = policy();
  for (int attempts = 1; attempts < 4; ++attempts) {
    auto d = decide_retry(p, error_of(os_error_kind::transient), true, true, attempts, 0ms, 0.5);
    BOOST_TEST(d.retry);
  }
  auto last = decide_retry(p, error_of(os_error_kind::transient), true, true, 4, 0ms, 0.5);
  BOOST_TEST(!last.retry);
  BOOST_TEST(to_string(last.error.kind) == "transient");
}

BOOST_AUTO_TEST_CASE(permanent_failures_never_retry) {
  auto p = policy();
  for (auto kind : {os_error_kind::not_found, os_error_kind::quota, os_error_kind::bad_request,
                    os_error_kind::conflict, os_error_kind::auth, os_error_kind::circuit_open}) {
    auto d = decide_retry(p, error_of(kind), false, true, 1, 0ms, 0.5);
    BOOST_TEST(!d.retry);
    BOOST_TEST(to_string(d.error.kind) == to_string(kind));
  }
}

BOOST_AUTO_TEST_CASE(a_create_that_may_have_executed_becomes_outcome_unknown) {
  auto d = decide_retry(policy(), error_of(os_error_kind::transient), true, false, 1, 0ms, 0.5);
  BOOST_TEST(!d.retry);
  BOOST_TEST(to_string(d.error.kind) == "outcome_unknown");
  BOOST_TEST(d.error.message.find("boom") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_create_that_never_reached_the_server_is_retried) {
  auto d = decide_retry(policy(), error_of(os_error_kind::transient), false, false, 1, 0ms, 0.5);
  BOOST_TEST(d.retry);
  auto limited
    = decide_retry(policy(), error_of(os_error_kind::rate_limited, 2s), false, false, 1, 0ms, 0.5);
  BOOST_TEST(limited.retry);
}

BOOST_AUTO_TEST_CASE(retry_after_is_never_shortened_by_jitter) {
  for (double unit : {0.0, 0.3, 0.999}) {
    auto d = decide_retry(policy(), error_of(os_error_kind::rate_limited, 7s), false, true, 1, 0ms,
                          unit);
    BOOST_TEST(d.retry);
    BOOST_TEST(d.delay.count() >= 7000);
  }
}

BOOST_AUTO_TEST_CASE(no_retry_is_scheduled_past_the_deadline) {
  auto p = policy();
  p.deadline = 10s;
  auto d = decide_retry(p, error_of(os_error_kind::rate_limited, 5s), false, true, 1, 6s, 0.0);
  BOOST_TEST(!d.retry);
  auto ok = decide_retry(p, error_of(os_error_kind::rate_limited, 3s), false, true, 1, 6s, 0.0);
  BOOST_TEST(ok.retry);
}

BOOST_AUTO_TEST_SUITE_END()
