#include "orch/http/gateway.hpp"

#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <prometheus/registry.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "orch/http/problem.hpp"
#include "orch/logging.hpp"
#include "orch/testing/http_client.hpp"
#include "orch/testing/printers.hpp"
#include "orch/uuid.hpp"

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using orch::http::request;
using orch::http::request_context;
using orch::http::responder;
using orch::http::response;
using orch::http::route_match;
using orch::testing::header_list;

namespace {

constexpr auto read_key = "read-key-0123456789";
constexpr auto write_key = "write-key-0123456789";

orch::http::gateway_config test_config() {
  orch::http::gateway_config cfg;
  cfg.keys = {{read_key, orch::api_scope::read}, {write_key, orch::api_scope::write}};
  cfg.cors_origins = {"https://ui.example"};
  cfg.rate_limit_per_minute = 5;
  return cfg;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  BOOST_REQUIRE(!doc.HasParseError());
  return doc;
}

struct gateway_fixture {
  gateway_fixture() : uut(test_config(), registry, [this] { return now; }) {
    uut.add_route(bhttp::verb::get, "/templates",
                  [](const request& req, const route_match&, request_context&, responder respond) {
                    respond(orch::http::make_json_response(bhttp::status::ok, R"({"items":[]})",
                                                           req.version()));
                  });
    uut.add_route(
      bhttp::verb::post, "/templates",
      [this](const request& req, const route_match&, request_context& ctx, responder respond) {
        seen = ctx;
        response res{bhttp::status::created, req.version()};
        res.body() = req.body(); // no Content-Type: the gateway adds JSON's
        respond(std::move(res));
      });
    uut.add_route(
      bhttp::verb::get, "/templates/{id}",
      [this](const request&, const route_match& match, request_context&, responder respond) {
        now += 2ms;
        respond(response{bhttp::status::ok, 11});
        last_id = std::string{match.param("id")};
      });
    uut.add_route(bhttp::verb::get, "/boom",
                  [](const request&, const route_match&, request_context&, responder) {
                    throw std::runtime_error{"secret internals"};
                  });
  }

  response call(bhttp::verb method, std::string target, header_list headers = {},
                std::string body = {}, std::string address = "127.0.0.1") {
    request req{method, target, 11};
    for (auto& [name, value] : headers) req.set(name, value);
    req.body() = std::move(body);
    req.prepare_payload();
    std::optional<response> got;
    uut(std::move(req), request_context{std::move(address), {}, {}, false},
        responder{[&](response res) { got = std::move(res); }});
    BOOST_REQUIRE(got.has_value());
    return std::move(*got);
  }

  response get(std::string target, header_list headers = {}) {
    return call(bhttp::verb::get, std::move(target), std::move(headers));
  }

  std::string metrics() { return get("/metrics").body(); }

  std::chrono::steady_clock::time_point now{std::chrono::hours{1}};
  prometheus::Registry registry;
  orch::http::gateway uut;
  request_context seen;
  std::string last_id;
};

header_list key(const char* k) {
  return {{"X-API-Key", k}};
}

header_list json_body_key(const char* k) {
  return {{"X-API-Key", k}, {"Content-Type", "application/json"}};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(gateway, gateway_fixture)

BOOST_AUTO_TEST_CASE(authorizes_by_key_scope_and_method) {
  struct row {
    header_list headers;
    unsigned get;
    unsigned post;
  };
  row rows[] = {
    {{}, 401, 401},
    {{{"X-API-Key", "unknown"}}, 401, 401},
    {{{"X-API-Key", read_key}}, 200, 403},
    {{{"X-API-Key", write_key}}, 200, 201},
    {{{"Authorization", std::string{"Bearer "} + read_key}}, 200, 403},
    {{{"Authorization", std::string{"Bearer "} + write_key}}, 200, 201},
  };
  for (auto& r : rows) {
    now += 1min; // keep the rate limit out of this test
    auto headers = r.headers;
    headers.emplace_back("Content-Type", "application/json");
    BOOST_TEST(get("/templates", r.headers).result_int() == r.get);
    BOOST_TEST(call(bhttp::verb::post, "/templates", headers, "{}").result_int() == r.post);
  }
}

BOOST_AUTO_TEST_CASE(answers_401_as_a_problem_with_www_authenticate) {
  for (auto headers : {header_list{}, key("unknown")}) {
    auto res = get("/templates", headers);
    BOOST_TEST(res.result() == bhttp::status::unauthorized);
    BOOST_TEST(res[bhttp::field::www_authenticate] == "Bearer");
    BOOST_TEST(res[bhttp::field::content_type] == "application/problem+json");
    BOOST_TEST((res.find("RateLimit-Limit") == res.end()));
    BOOST_TEST(res.body().find("unknown\"") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(answers_403_to_a_read_key_on_a_mutating_route) {
  auto res = call(bhttp::verb::post, "/templates", json_body_key(read_key), "{}");
  BOOST_TEST(res.result() == bhttp::status::forbidden);
  BOOST_TEST(parse(res.body())["status"].GetInt() == 403);
  BOOST_TEST(res["RateLimit-Limit"] == "5");
}

BOOST_AUTO_TEST_CASE(serves_open_routes_without_a_key) {
  BOOST_TEST(get("/health").result() == bhttp::status::ok);
  BOOST_TEST(get("/health").body() == R"({"status":"ok"})");
  BOOST_TEST(get("/metrics").result() == bhttp::status::ok);
  auto health = get("/health");
  BOOST_TEST((health.find("RateLimit-Limit") == health.end()));
  // Open means GET: anything else still needs a key.
  BOOST_TEST(call(bhttp::verb::post, "/health").result() == bhttp::status::unauthorized);
  BOOST_TEST(call(bhttp::verb::post, "/health", key(write_key)).result()
             == bhttp::status::method_not_allowed);
}

BOOST_AUTO_TEST_CASE(rate_limits_each_key_and_reports_the_budget) {
  for (int remaining = 4; remaining >= 0; --remaining) {
    auto res = get("/templates", key(read_key));
    BOOST_TEST(res.result() == bhttp::status::ok);
    BOOST_TEST(res["RateLimit-Limit"] == "5");
    BOOST_TEST(res["RateLimit-Remaining"] == std::to_string(remaining));
  }
  auto refused = get("/templates", key(read_key));
  BOOST_TEST(refused.result() == bhttp::status::too_many_requests);
  BOOST_TEST(refused[bhttp::field::retry_after] == "12");
  BOOST_TEST(refused["RateLimit-Remaining"] == "0");
  BOOST_TEST(refused["RateLimit-Reset"] == "60");
  BOOST_TEST(get("/templates", key(write_key)).result() == bhttp::status::ok);
  now += 12s;
  BOOST_TEST(get("/templates", key(read_key)).result() == bhttp::status::ok);
}

BOOST_AUTO_TEST_CASE(routes_unknown_paths_to_404_and_wrong_methods_to_405) {
  auto missing = get("/nothing/here?x=1", key(read_key));
  BOOST_TEST(missing.result() == bhttp::status::not_found);
  BOOST_TEST(parse(missing.body())["instance"].GetString() == "/nothing/here");
  auto wrong = call(bhttp::verb::delete_, "/templates", key(write_key));
  BOOST_TEST(wrong.result() == bhttp::status::method_not_allowed);
  BOOST_TEST(wrong[bhttp::field::allow] == "GET, HEAD, POST");
}

BOOST_AUTO_TEST_CASE(refuses_a_body_that_is_not_json) {
  auto text = call(bhttp::verb::post, "/templates",
                   {{"X-API-Key", write_key}, {"Content-Type", "text/plain"}}, "{}");
  BOOST_TEST(text.result() == bhttp::status::unsupported_media_type);
  auto none = call(bhttp::verb::post, "/templates", key(write_key), "{}");
  BOOST_TEST(none.result() == bhttp::status::unsupported_media_type);
  auto charset
    = call(bhttp::verb::post, "/templates",
           {{"X-API-Key", write_key}, {"Content-Type", "application/json; charset=utf-8"}}, "{}");
  BOOST_TEST(charset.result() == bhttp::status::created);
  BOOST_TEST(call(bhttp::verb::post, "/templates", key(write_key)).result()
             == bhttp::status::created);
}

BOOST_AUTO_TEST_CASE(echoes_a_sane_request_id_and_generates_others) {
  auto echoed = get("/templates", {{"X-API-Key", read_key}, {"X-Request-ID", "abc-1"}});
  BOOST_TEST(echoed["X-Request-ID"] == "abc-1");
  auto generated = get("/templates", {{"X-API-Key", read_key}, {"X-Request-ID", "bad id!"}});
  auto id = std::string{generated["X-Request-ID"]};
  BOOST_TEST(orch::uuid::parse(id).has_value());
  // Errors carry it too, in the header and the problem body.
  auto denied = get("/templates", {{"X-Request-ID", "abc-2"}});
  BOOST_TEST(denied["X-Request-ID"] == "abc-2");
  BOOST_TEST(parse(denied.body())["request_id"].GetString() == "abc-2");
}

BOOST_AUTO_TEST_CASE(passes_the_request_context_to_handlers) {
  call(bhttp::verb::post, "/templates",
       {{"X-API-Key", write_key}, {"X-Request-ID", "ctx-1"}, {"Content-Type", "application/json"}},
       "{}");
  BOOST_TEST(seen.request_id == "ctx-1");
  BOOST_TEST(seen.remote_address == "127.0.0.1");
  BOOST_TEST(seen.principal.starts_with("key-"));
  BOOST_TEST(seen.can_write);
}

BOOST_AUTO_TEST_CASE(labels_json_bodies_without_a_content_type) {
  auto res = call(bhttp::verb::post, "/templates", json_body_key(write_key), R"({"a":1})");
  BOOST_TEST(res[bhttp::field::content_type] == "application/json; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(answers_a_cors_preflight_without_a_key) {
  auto res = call(bhttp::verb::options, "/templates",
                  {{"Origin", "https://ui.example"},
                   {"Access-Control-Request-Method", "POST"},
                   {"Access-Control-Request-Headers", "X-API-Key"}});
  BOOST_TEST(res.result() == bhttp::status::no_content);
  BOOST_TEST(res[bhttp::field::access_control_allow_origin] == "https://ui.example");
  BOOST_TEST(res[bhttp::field::access_control_allow_methods] == "GET, HEAD, POST");
  BOOST_TEST(res[bhttp::field::vary] == "Origin");
  auto normal = get("/templates", {{"X-API-Key", read_key}, {"Origin", "https://ui.example"}});
  BOOST_TEST(normal[bhttp::field::access_control_allow_origin] == "https://ui.example");
  auto other = get("/templates", {{"X-API-Key", read_key}, {"Origin", "https://evil.example"}});
  BOOST_TEST((other.find(bhttp::field::access_control_allow_origin) == other.end()));
}

BOOST_AUTO_TEST_CASE(turns_a_handler_exception_into_a_generic_500) {
  auto res = get("/boom", key(read_key));
  BOOST_TEST(res.result() == bhttp::status::internal_server_error);
  BOOST_TEST(res[bhttp::field::content_type] == "application/problem+json");
  BOOST_TEST(res.body().find("secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(records_durations_by_route_pattern) {
  get("/templates/abc-123", key(read_key));
  get("/nowhere", key(read_key));
  auto text = metrics();
  BOOST_TEST(
    text.find(R"(api_request_duration_seconds_count{endpoint="/templates/{id}",method="GET"} 1)")
      != std::string::npos,
    text);
  BOOST_TEST(
    text.find(R"(api_request_duration_seconds_sum{endpoint="/templates/{id}",method="GET"} 0.002)")
    != std::string::npos);
  BOOST_TEST(text.find(R"(endpoint="unmatched")") != std::string::npos);
  BOOST_TEST(text.find("abc-123") == std::string::npos);
  BOOST_TEST(last_id == "abc-123");
}

BOOST_AUTO_TEST_CASE(counts_answers_by_route_and_status) {
  get("/templates/abc-123", key(read_key));
  get("/templates/abc-123", key(read_key));
  get("/boom", key(read_key));
  get("/templates/abc-123");
  auto text = metrics();
  BOOST_TEST(
    text.find(R"(api_requests_total{endpoint="/templates/{id}",method="GET",status="200"} 2)")
      != std::string::npos,
    text);
  BOOST_TEST(
    text.find(R"(api_requests_total{endpoint="/templates/{id}",method="GET",status="401"} 1)")
    != std::string::npos);
  BOOST_TEST(text.find(R"(method="GET",status="500"} 1)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(serves_metrics_in_the_prometheus_text_format) {
  auto res = get("/metrics");
  BOOST_TEST(res[bhttp::field::content_type].starts_with("text/plain; version=0.0.4"));
}

BOOST_AUTO_TEST_CASE(is_ready_without_checks) {
  auto res = get("/health/ready");
  BOOST_TEST(res.result() == bhttp::status::ok);
  auto doc = parse(res.body());
  BOOST_TEST(doc["status"].GetString() == "ready");
  BOOST_TEST(doc["checks"].ObjectEmpty());
}

BOOST_AUTO_TEST_CASE(is_not_ready_while_a_check_fails) {
  uut.add_readiness_check("database", [](auto done) { done(true, ""); });
  uut.add_readiness_check("openstack", [](auto done) { done(false, "keystone: timeout"); });
  auto res = get("/health/ready");
  BOOST_TEST(res.result() == bhttp::status::service_unavailable);
  auto doc = parse(res.body());
  BOOST_TEST(doc["status"].GetString() == "not_ready");
  BOOST_TEST(doc["checks"]["database"].GetString() == "ok");
  BOOST_TEST(doc["checks"]["openstack"].GetString() == "keystone: timeout");
}

BOOST_AUTO_TEST_CASE(waits_for_asynchronous_readiness_checks) {
  std::promise<std::function<void(bool, std::string)>> pending;
  uut.add_readiness_check("cluster", [&](auto done) { pending.set_value(done); });
  std::promise<response> answered;
  request req{bhttp::verb::get, "/health/ready", 11};
  uut(std::move(req), request_context{},
      responder{[&](response res) { answered.set_value(std::move(res)); }});
  auto result = answered.get_future();
  BOOST_TEST((result.wait_for(0s) == std::future_status::timeout));
  std::thread{[done = pending.get_future().get()] { done(true, ""); }}.join();
  BOOST_TEST(result.get().result() == bhttp::status::ok);
}

BOOST_AUTO_TEST_CASE(logs_each_request_without_the_key) {
  std::ostringstream out;
  // The module logger is shared; listen to it for the duration of this test only.
  auto logger = orch::logger("orch.http");
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  logger->sinks().push_back(sink);
  get("/templates?secret=1", {{"X-API-Key", read_key}, {"X-Request-ID", "log-1"}});
  get("/templates", {{"Authorization", std::string{"Bearer "} + write_key}});
  logger->sinks().pop_back();
  auto text = out.str();
  BOOST_TEST(text.find("[r:log-1] GET /templates 200 ") != std::string::npos, text);
  BOOST_TEST(text.find(read_key) == std::string::npos);
  BOOST_TEST(text.find(write_key) == std::string::npos);
  BOOST_TEST(text.find("secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(serves_through_the_http_server) {
  orch::http::server srv{orch::http::server_config{}, uut.as_handler()};
  srv.start();
  orch::testing::http_client client{"127.0.0.1", srv.port()};
  auto res = client.get("/templates", {{"X-API-Key", read_key}, {"X-Request-ID", "e2e-1"}});
  BOOST_TEST(res.result() == bhttp::status::ok);
  BOOST_TEST(res.body() == R"({"items":[]})");
  BOOST_TEST(res["X-Request-ID"] == "e2e-1");
  BOOST_TEST(client.get("/health").result() == bhttp::status::ok);
  srv.stop();
}

BOOST_AUTO_TEST_CASE(an_address_that_fails_to_authenticate_too_often_gets_429_even_with_a_key) {
  const std::string guesser = "192.0.2.7";
  for (int i = 0; i < 20; ++i) {
    auto res = call(bhttp::verb::get, "/templates", key("guess"), {}, guesser);
    BOOST_TEST_REQUIRE(res.result_int() == 401);
  }
  now += 15s;
  auto blocked = call(bhttp::verb::get, "/templates", key(read_key), {}, guesser);
  BOOST_TEST(blocked.result_int() == 429);
  BOOST_TEST(blocked[bhttp::field::retry_after] == "45");
  BOOST_TEST(blocked[bhttp::field::content_type] == "application/problem+json");
  auto doc = parse(blocked.body());
  BOOST_TEST(doc["detail"].GetString()
             == std::string{"too many failed authentications from this address; retry later"});
  BOOST_TEST(doc["request_id"].GetString() == blocked["X-Request-ID"]);
  // Other addresses, and open routes, are served meanwhile.
  BOOST_TEST(call(bhttp::verb::get, "/templates", key(read_key), {}, "192.0.2.8").result_int()
             == 200);
  BOOST_TEST(call(bhttp::verb::get, "/health", {}, {}, guesser).result_int() == 200);
  auto text = metrics();
  BOOST_TEST(text.find("api_auth_failures_total 20") != std::string::npos, text);
  BOOST_TEST(text.find("api_auth_blocked_total 1") != std::string::npos, text);
  // Once the minute is over, the valid key works again.
  now += 45s;
  BOOST_TEST(call(bhttp::verb::get, "/templates", key(read_key), {}, guesser).result_int() == 200);
}

BOOST_AUTO_TEST_SUITE_END()
