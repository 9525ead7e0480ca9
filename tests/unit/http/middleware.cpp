#include "orch/http/auth_failure_limiter.hpp"
#include "orch/http/authenticator.hpp"
#include "orch/http/content_type.hpp"
#include "orch/http/cors_policy.hpp"
#include "orch/http/rate_limiter.hpp"
#include "orch/http/request_id.hpp"

#include <chrono>
#include <string>

#include <boost/test/unit_test.hpp>

#include "orch/testing/http_client.hpp"
#include "orch/testing/printers.hpp"
#include "orch/uuid.hpp"

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

namespace {

orch::http::request make_request(bhttp::verb method, std::string target,
                                 orch::testing::header_list headers = {}) {
  orch::http::request req{method, target, 11};
  for (auto& [name, value] : headers) req.set(name, value);
  return req;
}

} // namespace

// All small middleware pieces in one suite; the gateway suite tests them composed.
BOOST_AUTO_TEST_SUITE(middleware)

// -- request id -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(request_id_echoes_a_sane_id) {
  BOOST_TEST(orch::http::resolve_request_id("abc-123_X.y") == "abc-123_X.y");
  BOOST_TEST(orch::http::resolve_request_id(std::string(128, 'a')) == std::string(128, 'a'));
}

BOOST_AUTO_TEST_CASE(request_id_replaces_an_insane_or_missing_id_with_a_uuid) {
  for (std::string sent : {std::string{}, std::string{"has space"}, std::string{"line\nbreak"},
                           std::string{"quote\""}, std::string(129, 'a')}) {
    auto id = orch::http::resolve_request_id(sent);
    BOOST_TEST(id != sent);
    BOOST_TEST(orch::uuid::parse(id).has_value(), id);
  }
  BOOST_TEST(orch::http::resolve_request_id("") != orch::http::resolve_request_id(""));
}

// -- content type ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(content_type_accepts_json_with_parameters) {
  for (auto ct : {"application/json", "application/json; charset=utf-8", "Application/JSON",
                  " application/json ;charset=UTF-8"})
    BOOST_TEST(orch::http::is_json_content_type(ct), ct);
}

BOOST_AUTO_TEST_CASE(content_type_rejects_other_media_types) {
  for (auto ct : {"", "text/plain", "application/jsonx", "application/x-www-form-urlencoded",
                  "application/problem+json", "multipart/form-data; boundary=x"})
    BOOST_TEST(!orch::http::is_json_content_type(ct), ct);
}

// -- CORS -----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cors_answers_a_preflight_from_an_allowed_origin) {
  orch::http::cors_policy uut{{"https://ui.example"}};
  auto req
    = make_request(bhttp::verb::options, "/templates",
                   {{"Origin", "https://ui.example"}, {"Access-Control-Request-Method", "POST"}});
  BOOST_TEST(orch::http::cors_policy::is_preflight(req));
  auto res = uut.preflight(req, "GET, HEAD, POST");
  BOOST_TEST(res.result() == bhttp::status::no_content);
  BOOST_TEST(res[bhttp::field::access_control_allow_origin] == "https://ui.example");
  BOOST_TEST(res[bhttp::field::access_control_allow_methods] == "GET, HEAD, POST");
  BOOST_TEST(res[bhttp::field::access_control_allow_headers].find("X-API-Key")
             != boost::beast::string_view::npos);
  BOOST_TEST(res[bhttp::field::vary] == "Origin");
}

BOOST_AUTO_TEST_CASE(cors_withholds_permission_from_other_origins) {
  orch::http::cors_policy uut{{"https://ui.example"}};
  auto req = make_request(
    bhttp::verb::options, "/templates",
    {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "DELETE"}});
  auto res = uut.preflight(req, "GET");
  BOOST_TEST((res.find(bhttp::field::access_control_allow_origin) == res.end()));
  BOOST_TEST((res.find(bhttp::field::access_control_allow_methods) == res.end()));
  BOOST_TEST(res[bhttp::field::vary] == "Origin");
}

BOOST_AUTO_TEST_CASE(cors_star_allows_any_origin) {
  orch::http::cors_policy uut{{"*"}};
  orch::http::response res;
  uut.decorate("https://anything.example", res);
  BOOST_TEST(res[bhttp::field::access_control_allow_origin] == "*");
  BOOST_TEST(res[bhttp::field::access_control_expose_headers].find("X-Request-ID")
             != boost::beast::string_view::npos);
}

BOOST_AUTO_TEST_CASE(cors_sends_nothing_when_unconfigured_or_without_origin) {
  orch::http::cors_policy none{{}};
  orch::http::response res;
  none.decorate("https://ui.example", res);
  BOOST_TEST((res.begin() == res.end()));
  orch::http::cors_policy some{{"https://ui.example"}};
  orch::http::response same_origin;
  some.decorate("", same_origin);
  BOOST_TEST((same_origin.find(bhttp::field::access_control_allow_origin) == same_origin.end()));
  BOOST_TEST(!orch::http::cors_policy::is_preflight(make_request(bhttp::verb::options, "/x")));
}

// -- authentication -------------------------------------------------------------------------------

namespace {

orch::http::authenticator make_authenticator() {
  return orch::http::authenticator{
    {{"read-key-1", orch::api_scope::read}, {"write-key-1", orch::api_scope::write}}};
}

orch::http::auth_status auth(const orch::http::authenticator& uut, bhttp::verb method,
                             orch::testing::header_list headers) {
  return uut.check(make_request(method, "/templates", std::move(headers))).status;
}

} // namespace

BOOST_AUTO_TEST_CASE(auth_matrix_of_keys_and_methods) {
  using orch::http::auth_status;
  auto uut = make_authenticator();
  struct row {
    orch::testing::header_list headers;
    auth_status get;
    auth_status post;
  };
  row rows[] = {
    {{}, auth_status::missing, auth_status::missing},
    {{{"X-API-Key", "nope"}}, auth_status::unknown, auth_status::unknown},
    {{{"X-API-Key", "read-key-1"}}, auth_status::allowed, auth_status::forbidden},
    {{{"X-API-Key", "write-key-1"}}, auth_status::allowed, auth_status::allowed},
    {{{"Authorization", "Bearer read-key-1"}}, auth_status::allowed, auth_status::forbidden},
    {{{"Authorization", "bearer write-key-1"}}, auth_status::allowed, auth_status::allowed},
    {{{"Authorization", "Basic d3JpdGUta2V5LTE="}}, auth_status::missing, auth_status::missing},
    {{{"Authorization", "Bearer nope"}}, auth_status::unknown, auth_status::unknown},
  };
  for (auto& r : rows) {
    BOOST_TEST((auth(uut, bhttp::verb::get, r.headers) == r.get));
    BOOST_TEST((auth(uut, bhttp::verb::head, r.headers) == r.get));
    BOOST_TEST((auth(uut, bhttp::verb::post, r.headers) == r.post));
    BOOST_TEST((auth(uut, bhttp::verb::delete_, r.headers) == r.post));
  }
}

BOOST_AUTO_TEST_CASE(auth_names_a_key_without_revealing_it) {
  auto uut = make_authenticator();
  auto outcome = uut.check(make_request(bhttp::verb::get, "/", {{"X-API-Key", "write-key-1"}}));
  BOOST_TEST(outcome.principal.starts_with("key-"));
  BOOST_TEST(outcome.principal.size() == 12u);
  BOOST_TEST(outcome.principal.find("write") == std::string::npos);
  BOOST_TEST(outcome.can_write);
  auto other = uut.check(make_request(bhttp::verb::get, "/", {{"X-API-Key", "read-key-1"}}));
  BOOST_TEST(other.principal != outcome.principal);
  BOOST_TEST(!other.can_write);
}

BOOST_AUTO_TEST_CASE(auth_takes_new_keys_while_running) {
  auto uut = make_authenticator();
  uut.set_keys({{"rotated", orch::api_scope::write}});
  BOOST_TEST(
    (auth(uut, bhttp::verb::post, {{"X-API-Key", "rotated"}}) == orch::http::auth_status::allowed));
  BOOST_TEST((auth(uut, bhttp::verb::get, {{"X-API-Key", "write-key-1"}})
              == orch::http::auth_status::unknown));
}

BOOST_AUTO_TEST_CASE(auth_key_hash_is_the_hex_sha256_of_the_key) {
  // Known answer: sha256("abc").
  BOOST_TEST(orch::http::authenticator::key_hash("abc")
             == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(auth_stored_keys_join_the_configured_ones_and_can_be_replaced) {
  using orch::http::auth_status;
  using orch::http::authenticator;
  auto uut = make_authenticator();
  uut.set_stored_keys({{authenticator::key_hash("db-writer"), orch::api_scope::write},
                       {authenticator::key_hash("db-reader"), orch::api_scope::read},
                       {"not-a-digest", orch::api_scope::write}});
  BOOST_TEST((auth(uut, bhttp::verb::post, {{"X-API-Key", "db-writer"}}) == auth_status::allowed));
  BOOST_TEST((auth(uut, bhttp::verb::get, {{"X-API-Key", "db-reader"}}) == auth_status::allowed));
  BOOST_TEST(
    (auth(uut, bhttp::verb::post, {{"X-API-Key", "db-reader"}}) == auth_status::forbidden));
  BOOST_TEST(
    (auth(uut, bhttp::verb::post, {{"X-API-Key", "write-key-1"}}) == auth_status::allowed));
  // A malformed digest matches nothing, not even its own text.
  BOOST_TEST(
    (auth(uut, bhttp::verb::get, {{"X-API-Key", "not-a-digest"}}) == auth_status::unknown));
  // A revoked key (gone from the stored list) stops working; configured keys stay.
  uut.set_stored_keys({{authenticator::key_hash("db-reader"), orch::api_scope::read}});
  BOOST_TEST((auth(uut, bhttp::verb::get, {{"X-API-Key", "db-writer"}}) == auth_status::unknown));
  BOOST_TEST((auth(uut, bhttp::verb::get, {{"X-API-Key", "db-reader"}}) == auth_status::allowed));
  // Rotating API_KEYS keeps the stored ones.
  uut.set_keys({{"rotated", orch::api_scope::read}});
  BOOST_TEST((auth(uut, bhttp::verb::get, {{"X-API-Key", "db-reader"}}) == auth_status::allowed));
  BOOST_TEST((auth(uut, bhttp::verb::get, {{"X-API-Key", "rotated"}}) == auth_status::allowed));
}

BOOST_AUTO_TEST_CASE(auth_lists_the_open_routes) {
  using orch::http::authenticator;
  for (auto path : {"/health", "/health/ready", "/metrics", "/openapi.json", "/ui", "/ui/",
                    "/ui/app.js", "/health/"})
    BOOST_TEST(authenticator::is_open_route(bhttp::verb::get, path), path);
  BOOST_TEST(authenticator::is_open_route(bhttp::verb::head, "/health"));
  BOOST_TEST(!authenticator::is_open_route(bhttp::verb::post, "/health"));
  for (auto path : {"/templates", "/healthz", "/uix", "/metrics/x", "/"})
    BOOST_TEST(!authenticator::is_open_route(bhttp::verb::get, path), path);
}

// -- rate limit -----------------------------------------------------------------------------------

namespace {

/// A clock that moves only when the test says so.
struct manual_clock {
  std::chrono::steady_clock::time_point now{std::chrono::hours{1}};

  orch::http::clock_function fn() {
    return [this] { return now; };
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(rate_limit_allows_a_burst_of_the_limit_then_refuses) {
  manual_clock clock;
  orch::http::rate_limiter uut{3, clock.fn()};
  for (int expected_remaining : {2, 1, 0}) {
    auto d = uut.take("k");
    BOOST_TEST(d.allowed);
    BOOST_TEST(d.limit == 3);
    BOOST_TEST(d.remaining == expected_remaining);
  }
  auto refused = uut.take("k");
  BOOST_TEST(!refused.allowed);
  BOOST_TEST(refused.remaining == 0);
  BOOST_TEST(refused.retry_after_seconds == 20); // 3 per minute: one token per 20 s
  BOOST_TEST(refused.reset_seconds == 60);
}

BOOST_AUTO_TEST_CASE(rate_limit_refills_over_time) {
  manual_clock clock;
  orch::http::rate_limiter uut{3, clock.fn()};
  for (int i = 0; i < 3; ++i) uut.take("k");
  clock.now += 19s;
  BOOST_TEST(!uut.take("k").allowed);
  BOOST_TEST(uut.take("k").retry_after_seconds == 1);
  clock.now += 1s;
  BOOST_TEST(uut.take("k").allowed);
  clock.now += 10min;
  BOOST_TEST(uut.take("k").remaining == 2); // never more than the limit
}

BOOST_AUTO_TEST_CASE(rate_limit_keeps_one_bucket_per_key) {
  manual_clock clock;
  orch::http::rate_limiter uut{1, clock.fn()};
  BOOST_TEST(uut.take("a").allowed);
  BOOST_TEST(!uut.take("a").allowed);
  BOOST_TEST(uut.take("b").allowed);
}

// -- failed authentications ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(auth_failures_block_an_address_until_its_window_ends) {
  manual_clock clock;
  orch::http::auth_failure_limiter uut{3, clock.fn()};
  BOOST_TEST(uut.blocked_for("10.0.0.1") == 0);
  BOOST_TEST(!uut.record_failure("10.0.0.1"));
  clock.now += 10s;
  BOOST_TEST(!uut.record_failure("10.0.0.1"));
  BOOST_TEST(uut.blocked_for("10.0.0.1") == 0);
  clock.now += 10s;
  BOOST_TEST(uut.record_failure("10.0.0.1"));    // the third within the minute blocks
  BOOST_TEST(!uut.record_failure("10.0.0.1"));   // already blocked: reported once
  BOOST_TEST(uut.blocked_for("10.0.0.1") == 40); // the window opened 20 s ago
  BOOST_TEST(uut.blocked_for("10.0.0.2") == 0);  // other addresses are not affected
  clock.now += 39s + 500ms;
  BOOST_TEST(uut.blocked_for("10.0.0.1") == 1);
  clock.now += 500ms;
  BOOST_TEST(uut.blocked_for("10.0.0.1") == 0);
  // A new window starts from zero.
  BOOST_TEST(!uut.record_failure("10.0.0.1"));
  BOOST_TEST(uut.blocked_for("10.0.0.1") == 0);
}

BOOST_AUTO_TEST_CASE(auth_failures_spread_over_windows_never_block) {
  manual_clock clock;
  orch::http::auth_failure_limiter uut{3, clock.fn()};
  for (int i = 0; i < 10; ++i) {
    uut.record_failure("10.0.0.1");
    uut.record_failure("10.0.0.1");
    BOOST_TEST(uut.blocked_for("10.0.0.1") == 0);
    clock.now += 61s;
  }
}

BOOST_AUTO_TEST_CASE(auth_failures_keep_bounded_memory) {
  manual_clock clock;
  orch::http::auth_failure_limiter uut{2, clock.fn(), 100};
  for (int i = 0; i < 1000; ++i) {
    uut.record_failure("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    BOOST_TEST_REQUIRE(uut.tracked() <= 100u);
  }
  // The newest addresses are the ones remembered.
  uut.record_failure("10.1.3.231"); // i = 999
  BOOST_TEST(uut.blocked_for("10.1.3.231") > 0);
  uut.record_failure("10.1.0.0"); // i = 0, forgotten: a fresh window
  BOOST_TEST(uut.blocked_for("10.1.0.0") == 0);
  // Ended windows are dropped as time passes.
  clock.now += 61s;
  uut.blocked_for("anyone");
  BOOST_TEST(uut.tracked() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
