#include "orch/openstack/client.hpp"

#include <map>
#include <optional>
#include <set>

#include <boost/test/unit_test.hpp>

#include "fake_transport.hpp"
#include "orch/config.hpp"
#include "orch/openstack/url.hpp"

using namespace orch::openstack;
using namespace orch::openstack::testing;
using namespace std::chrono_literals;

namespace {

using os_client = orch::openstack::client;

constexpr auto password = "pa55-w0rd-never-shown";

/// Remembers everything the client reports.
struct recording_observer : client_observer {
  void on_call(const call_report& r) override { calls.push_back(r); }

  void on_retry(service, const os_error& err, std::chrono::milliseconds delay) override {
    retries.emplace_back(err, delay);
  }

  void on_breaker_change(service svc, breaker_state st) override {
    breaker_changes.emplace_back(svc, st);
  }

  void on_authenticated(bool after_401) override { auths.push_back(after_401); }

  std::vector<call_report> calls;
  std::vector<std::pair<os_error, std::chrono::milliseconds>> retries;
  std::vector<std::pair<service, breaker_state>> breaker_changes;
  std::vector<bool> auths;
};

/// Captures one callback's outcome and how often it ran.
template <class T>
struct capture {
  callback<T> cb() {
    return [this](result<T> r) {
      ++calls;
      value.emplace(std::move(r));
    };
  }

  bool ok() const { return value && value->ok(); }

  std::string kind() const {
    BOOST_REQUIRE(value.has_value());
    return value->ok() ? "ok" : to_string(value->error().kind);
  }

  int calls = 0;
  std::optional<result<T>> value;
};

std::string server_body(const std::string& id, const std::string& name = "vm",
                        const std::string& status = "ACTIVE") {
  return R"({"id": ")" + id + R"(", "name": ")" + name + R"(", "status": ")" + status + R"("})";
}

transport_outcome server_reply(const std::string& id) {
  return reply(200, R"({"server": )" + server_body(id) + "}");
}

struct fixture {
  fixture() {
    cfg.credentials.auth_url = "http://cloud.test:5000/v3";
    cfg.credentials.username = "orch";
    cfg.credentials.user_domain_name = "Default";
    cfg.credentials.password = password;
    cfg.credentials.project_name = "demo";
    cfg.credentials.project_domain_name = "Default";
    cfg.retry.max_attempts = 4;
    cfg.retry.base_delay = 100ms;
    cfg.retry.max_delay = 2s;
    cfg.retry.deadline = 120s;
    cfg.breaker.failure_threshold = 3;
    cfg.breaker.open_duration = 10s;
    cfg.breaker.half_open_probes = 1;
  }

  os_client& uut() {
    if (!client_)
      client_.emplace(
        cfg, transport, tmr, clk, [] { return 0.5; }, &observer);
    return *client_;
  }

  size_t auth_calls() const { return transport.count("POST", "/v3/auth/tokens"); }

  client_config cfg;
  fake_clock clk;
  fake_timer tmr{clk};
  fake_transport transport;
  recording_observer observer;
  std::optional<os_client> client_;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(client, fixture)

BOOST_AUTO_TEST_CASE(first_call_authenticates_then_sends_token_and_microversion) {
  transport.script = {token_reply(1h, "tok-1"), server_reply("s1")};
  capture<server> got;
  uut().get_server("s1", got.cb());
  BOOST_TEST(got.kind() == "ok");
  BOOST_TEST(got.value->value().id == "s1");
  BOOST_REQUIRE(transport.calls.size() == 2u);
  const auto& auth = transport.calls[0];
  BOOST_TEST(auth.url == "http://cloud.test:5000/v3/auth/tokens");
  BOOST_TEST(auth.body.find(password) != std::string::npos);
  const auto& get = transport.calls[1];
  BOOST_TEST(get.method == "GET");
  BOOST_TEST(get.url == "http://cloud.test:8774/v2.1/servers/s1");
  BOOST_TEST(*find_header(get.headers, "X-Auth-Token") == "tok-1");
  BOOST_TEST(*find_header(get.headers, "OpenStack-API-Version") == "compute 2.90");
  BOOST_TEST(*find_header(get.headers, "x-openstack-nova-api-version") == "2.90");
  BOOST_TEST(find_header(get.headers, "Content-Type").has_value() == false);
}

BOOST_AUTO_TEST_CASE(token_is_reused_until_shortly_before_expiry_then_refreshed) {
  cfg.token_refresh_margin = 5min;
  transport.responder = [](const http_call& c) {
    if (c.url.find("/auth/tokens") != std::string::npos) return token_reply(1h);
    return server_reply("s");
  };
  capture<server> a;
  uut().get_server("s", a.cb());
  clk.advance(54min);
  capture<server> b;
  uut().get_server("s", b.cb());
  BOOST_TEST(b.kind() == "ok");
  BOOST_TEST(auth_calls() == 1u);
  clk.advance(2min); // 56 min: inside the 5 min margin
  capture<server> c;
  uut().get_server("s", c.cb());
  BOOST_TEST(c.kind() == "ok");
  BOOST_TEST(auth_calls() == 2u);
  BOOST_TEST((observer.auths == std::vector<bool>{false, false}));
}

BOOST_AUTO_TEST_CASE(a_401_reauthenticates_once_and_repeats_the_call) {
  transport.script
    = {token_reply(1h, "old"), reply(401, read_sample("keystone/error-401-unauthorized.json")),
       token_reply(1h, "new"), server_reply("s")};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_TEST(got.kind() == "ok");
  BOOST_TEST(auth_calls() == 2u);
  BOOST_REQUIRE(transport.calls.size() == 4u);
  BOOST_TEST(*find_header(transport.calls[3].headers, "X-Auth-Token") == "new");
  BOOST_TEST((observer.auths == std::vector<bool>{false, true}));
  BOOST_TEST(tmr.requested.empty());
}

BOOST_AUTO_TEST_CASE(a_401_on_a_create_replays_the_post_once) {
  transport.script = {token_reply(), reply(401), token_reply(),
                      reply(202, read_sample("nova/server-create-resp.json"))};
  server_spec spec;
  spec.name = "vm";
  spec.flavor_ref = "1";
  spec.image_ref = "img";
  capture<created_server> got;
  uut().create_server(spec, got.cb());
  BOOST_TEST(got.kind() == "ok");
  BOOST_TEST(transport.count("POST", "/servers") == 2u);
}

BOOST_AUTO_TEST_CASE(a_second_401_fails_with_auth_without_looping) {
  transport.script = {token_reply(), reply(401), token_reply(), reply(401)};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_TEST(got.kind() == "auth");
  BOOST_TEST(got.calls == 1);
  BOOST_TEST(transport.calls.size() == 4u);
  BOOST_TEST(tmr.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_credentials_fail_once_and_the_error_hides_the_password) {
  // Keystone's validation errors may quote the offending value.
  transport.script = {reply(401, R"({"error": {"code": 401, "title": "Unauthorized",
                                        "message": "bad password pa55-w0rd-never-shown"}})")};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_TEST(got.kind() == "auth");
  BOOST_TEST(auth_calls() == 1u);
  BOOST_TEST(to_string(got.value->error()).find(password) == std::string::npos);
  BOOST_TEST(got.value->error().message == "Keystone refused the credentials");
  for (const auto& r : observer.calls)
    BOOST_TEST(status_label(r).find(password) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(ten_concurrent_callers_share_one_authentication) {
  transport.hold = true;
  transport.responder = [](const http_call& c) {
    if (c.url.find("/auth/tokens") != std::string::npos) return token_reply();
    return server_reply("s");
  };
  std::vector<capture<server>> got(10);
  for (auto& g : got) uut().get_server("s", g.cb());
  BOOST_TEST(transport.calls.size() == 1u); // only the token request is out
  transport.release_all();
  BOOST_TEST(auth_calls() == 1u);
  BOOST_TEST(transport.count("GET", "/servers/s") == 10u);
  for (auto& g : got) {
    BOOST_TEST(g.calls == 1);
    BOOST_TEST(g.kind() == "ok");
  }
}

BOOST_AUTO_TEST_CASE(token_expiring_while_calls_wait_triggers_exactly_one_refresh) {
  transport.responder = [](const http_call& c) {
    if (c.url.find("/auth/tokens") != std::string::npos) return token_reply(1h);
    return server_reply("s");
  };
  capture<server> first;
  uut().get_server("s", first.cb());
  clk.advance(2h);
  transport.hold = true;
  std::vector<capture<server>> got(5);
  for (auto& g : got) uut().get_server("s", g.cb());
  transport.release_all();
  BOOST_TEST(auth_calls() == 2u);
  for (auto& g : got) BOOST_TEST(g.kind() == "ok");
}

BOOST_AUTO_TEST_CASE(a_transient_keystone_failure_is_retried_for_every_waiter) {
  transport.script = {reply(503), token_reply()};
  transport.responder = [](const http_call&) { return server_reply("s"); };
  std::vector<capture<server>> got(3);
  for (auto& g : got) uut().get_server("s", g.cb());
  BOOST_TEST(auth_calls() == 1u);
  BOOST_TEST(tmr.run_all() == 1u);
  BOOST_TEST(auth_calls() == 2u);
  for (auto& g : got) BOOST_TEST(g.kind() == "ok");
}

BOOST_AUTO_TEST_CASE(governor_bounds_calls_in_flight) {
  cfg.max_in_flight = 3;
  transport.script = {token_reply()};
  transport.responder = [](const http_call&) { return server_reply("s"); };
  capture<server> warmup;
  uut().get_server("s", warmup.cb());
  transport.hold = true;
  std::vector<capture<server>> got(8);
  for (auto& g : got) uut().get_server("s", g.cb());
  BOOST_TEST(transport.held.size() == 3u);
  BOOST_TEST(uut().in_flight() == 3u);
  BOOST_TEST(uut().waiting() == 5u);
  transport.release_all();
  BOOST_TEST(uut().in_flight() == 0u);
  for (auto& g : got) BOOST_TEST(g.kind() == "ok");
}

BOOST_AUTO_TEST_CASE(storm_of_503_opens_the_breaker_and_a_probe_closes_it) {
  cfg.retry.max_attempts = 1;
  bool healthy = false;
  transport.responder = [&](const http_call& c) {
    if (c.url.find("/auth/tokens") != std::string::npos) return token_reply(24h);
    if (!healthy) return reply(503, R"({"serviceUnavailable": {"code": 503, "message": "down"}})");
    return server_reply("s");
  };
  for (int i = 0; i < 3; ++i) {
    capture<server> got;
    uut().get_server("s", got.cb());
    BOOST_TEST(got.kind() == "transient");
  }
  BOOST_TEST(to_string(uut().breaker(service::compute)) == "open");
  capture<server> refused;
  uut().get_server("s", refused.cb());
  BOOST_TEST(refused.kind() == "circuit_open");
  BOOST_TEST(transport.count("GET", "/servers/s") == 3u);
  BOOST_TEST(status_label(observer.calls.back()) == "circuit_open");
  // Other services keep working.
  BOOST_TEST(to_string(uut().breaker(service::network)) == "closed");
  clk.advance(10s);
  healthy = true;
  capture<server> probe;
  uut().get_server("s", probe.cb());
  BOOST_TEST(probe.kind() == "ok");
  BOOST_TEST(to_string(uut().breaker(service::compute)) == "closed");
  BOOST_REQUIRE(observer.breaker_changes.size() == 3u);
  BOOST_TEST(to_string(observer.breaker_changes[0].second) == "open");
  BOOST_TEST(to_string(observer.breaker_changes[1].second) == "half_open");
  BOOST_TEST(to_string(observer.breaker_changes[2].second) == "closed");
}

BOOST_AUTO_TEST_CASE(a_keystone_outage_opens_the_identity_breaker_and_a_probe_recovers) {
  cfg.retry.max_attempts = 1;
  bool keystone_up = false;
  transport.responder = [&](const http_call& c) {
    if (c.url.find("/auth/tokens") != std::string::npos)
      return keystone_up ? token_reply(24h) : reply(503, "", {{"Retry-After", "1"}});
    return server_reply("s");
  };
  for (int i = 0; i < 3; ++i) {
    capture<server> got;
    uut().get_server("s", got.cb());
    BOOST_TEST(got.kind() == "transient");
  }
  BOOST_TEST(to_string(uut().breaker(service::identity)) == "open");
  capture<server> refused;
  uut().get_server("s", refused.cb());
  BOOST_TEST(refused.kind() == "circuit_open");
  BOOST_TEST(auth_calls() == 3u);
  // Keystone said when to come back: a probe goes out after 1 s, not after the full 10 s.
  clk.advance(1s);
  capture<server> failed_probe;
  uut().get_server("s", failed_probe.cb());
  BOOST_TEST(failed_probe.kind() == "transient");
  BOOST_TEST(auth_calls() == 4u);
  keystone_up = true;
  clk.advance(1s);
  capture<server> probe;
  uut().get_server("s", probe.cb());
  BOOST_TEST(probe.kind() == "ok");
  BOOST_TEST(auth_calls() == 5u);
  BOOST_TEST(to_string(uut().breaker(service::identity)) == "closed");
}

BOOST_AUTO_TEST_CASE(retried_503s_recover_with_jittered_backoff) {
  int failures = 2;
  transport.responder = [&](const http_call& c) {
    if (c.url.find("/auth/tokens") != std::string::npos) return token_reply();
    if (failures-- > 0) return reply(503);
    return server_reply("s");
  };
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_TEST(!got.value.has_value());
  BOOST_TEST(tmr.run_all() == 2u);
  BOOST_TEST(got.kind() == "ok");
  // random 0.5: half of 100 ms, then half of 200 ms.
  BOOST_TEST((tmr.requested == std::vector<std::chrono::milliseconds>{50ms, 100ms}));
  BOOST_TEST(observer.retries.size() == 2u);
  BOOST_TEST(observer.calls.back().attempt == 3);
}

BOOST_AUTO_TEST_CASE(retry_after_delay_is_respected) {
  transport.script = {token_reply(), reply(429, "", {{"Retry-After", "7"}}), server_reply("s")};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_REQUIRE(tmr.requested.size() == 1u);
  BOOST_TEST(tmr.requested[0].count() >= 7000);
  auto before = clk.now();
  tmr.run_all();
  BOOST_TEST(got.kind() == "ok");
  BOOST_TEST((clk.now() - before >= 7s));
}

BOOST_AUTO_TEST_CASE(retry_after_as_http_date_is_respected) {
  transport.script = {token_reply(),
                      reply(503, "",
                            {{"Date", "Wed, 21 Oct 2026 07:28:00 GMT"},
                             {"Retry-After", "Wed, 21 Oct 2026 07:28:20 GMT"}}),
                      server_reply("s")};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_REQUIRE(tmr.requested.size() == 1u);
  BOOST_TEST(tmr.requested[0].count() >= 20'000);
  tmr.run_all();
  BOOST_TEST(got.kind() == "ok");
}

BOOST_AUTO_TEST_CASE(lost_create_answer_is_outcome_unknown_and_posted_once) {
  server_spec spec;
  spec.name = "vm";
  spec.flavor_ref = "1";
  spec.image_ref = "img";
  for (auto lost : {transport_error::timeout, transport_error::connection_reset}) {
    fake_transport t;
    t.script = {token_reply()};
    t.fail_at = 2;
    t.fail_with = lost;
    os_client c{cfg, t, tmr, clk, [] { return 0.5; }};
    capture<created_server> got;
    c.create_server(spec, got.cb());
    BOOST_TEST(got.kind() == "outcome_unknown");
    BOOST_TEST(t.count("POST", "/servers") == 1u);
    BOOST_TEST(tmr.pending() == 0u);
  }
  fake_transport t;
  t.script = {token_reply(), reply(500)};
  os_client c{cfg, t, tmr, clk, [] { return 0.5; }};
  capture<created_server> got;
  c.create_server(spec, got.cb());
  BOOST_TEST(got.kind() == "outcome_unknown");
  BOOST_TEST(t.count("POST", "/servers") == 1u);
}

BOOST_AUTO_TEST_CASE(create_that_never_connected_or_was_rate_limited_is_retried) {
  server_spec spec;
  spec.name = "vm";
  spec.flavor_ref = "1";
  spec.image_ref = "img";
  transport.script = {token_reply(), transport_failure{transport_error::connect_failed, "refused"},
                      reply(429, "", {{"Retry-After", "1"}}),
                      reply(202, read_sample("nova/server-create-resp.json"))};
  capture<created_server> got;
  uut().create_server(spec, got.cb());
  tmr.run_all();
  BOOST_TEST(got.kind() == "ok");
  BOOST_TEST(got.value->value().id == "f5dc173b-6804-445a-a6d8-c705dad5b5eb");
  BOOST_TEST(transport.count("POST", "/servers") == 3u);
}

BOOST_AUTO_TEST_CASE(quota_errors_are_surfaced_without_retry) {
  transport.script
    = {token_reply(), reply(403, read_sample("nova/error-403-forbidden-quota.json"))};
  server_spec spec;
  spec.name = "vm";
  spec.flavor_ref = "1";
  spec.image_ref = "img";
  capture<created_server> got;
  uut().create_server(spec, got.cb());
  BOOST_TEST(got.kind() == "quota");
  BOOST_TEST(tmr.requested.empty());
}

BOOST_AUTO_TEST_CASE(unreadable_create_answer_is_outcome_unknown) {
  transport.script = {token_reply(), reply(201, R"({"network": {"name": "no id"}})")};
  network_spec spec;
  spec.name = "net";
  capture<network> got;
  uut().create_network(spec, got.cb());
  BOOST_TEST(got.kind() == "outcome_unknown");
  BOOST_TEST(got.value->error().message.find("network.id") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_specs_fail_before_any_call) {
  server_spec spec; // no name, no flavor
  capture<created_server> got;
  uut().create_server(spec, got.cb());
  BOOST_TEST(got.kind() == "bad_request");
  BOOST_TEST(transport.calls.empty());
}

BOOST_AUTO_TEST_CASE(pagination_follows_next_links_over_1000_servers) {
  constexpr int total = 1000;
  constexpr int page_size = 100;
  auto id_of = [](int i) { return "srv-" + std::to_string(i); };
  transport.responder = [&](const http_call& c) -> transport_outcome {
    if (c.url.find("/auth/tokens") != std::string::npos) return token_reply();
    auto url = parse_url(c.url);
    BOOST_REQUIRE(url.has_value());
    BOOST_TEST(url->path == "/v2.1/servers/detail");
    BOOST_TEST(url->query.find("tags=orch-deployment%3Dd1") != std::string::npos);
    int start = 0;
    if (auto m = url->query.find("marker=srv-"); m != std::string::npos)
      start = std::stoi(url->query.substr(m + 11)) + 1;
    std::string body = R"({"servers": [)";
    int end = std::min(start + page_size, total);
    for (int i = start; i < end; ++i) body += (i > start ? "," : "") + server_body(id_of(i));
    body += "]";
    // Nova links a next page whenever this one is full, even the last one. The link names
    // the cloud's public host, which the client must not follow.
    if (end - start == page_size)
      body
        += R"(, "servers_links": [{"rel": "next", "href": "http://public.test/v2.1/p/servers/detail?tags=orch-deployment%3Dd1&limit=100&marker=)"
           + id_of(end - 1) + R"("}])";
    body += "}";
    return reply(200, body);
  };
  server_filters filters;
  filters.tags = {"orch-deployment=d1"};
  filters.limit = page_size;
  capture<std::vector<server>> got;
  uut().list_servers_detail(filters, got.cb());
  BOOST_TEST(got.kind() == "ok");
  const auto& servers = got.value->value();
  BOOST_REQUIRE(servers.size() == static_cast<size_t>(total));
  std::set<std::string> ids;
  for (const auto& s : servers) ids.insert(s.id);
  BOOST_TEST(ids.size() == static_cast<size_t>(total));
  BOOST_TEST(servers.front().id == "srv-0");
  BOOST_TEST(servers.back().id == "srv-999");
  BOOST_TEST(transport.count("GET", "/servers/detail") == 11u); // 10 full pages + 1 empty
  for (const auto& c : transport.calls) BOOST_TEST(c.url.find("public.test") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_next_link_that_repeats_is_an_error_not_a_loop) {
  transport.script = {token_reply()};
  transport.responder = [](const http_call&) {
    return reply(
      200,
      R"({"servers": [)" + server_body("a")
        + R"(], "servers_links": [{"rel": "next", "href": "http://x/servers/detail?marker=a"}]})");
  };
  capture<std::vector<server>> got;
  uut().list_servers_detail({}, got.cb());
  BOOST_TEST(got.kind() == "malformed_response");
  BOOST_TEST(transport.count("GET", "/servers/detail") == 2u);
}

BOOST_AUTO_TEST_CASE(a_vanished_marker_restarts_a_neutron_listing_once) {
  auto page_one = R"({"ports": [{"id": "p1"}], "ports_links": [{"rel": "next",
                      "href": "http://cloud.test:9696/v2.0/ports?marker=p1"}]})";
  transport.script = {token_reply(), reply(200, page_one),
                      reply(404, read_sample("neutron/error-404-NetworkNotFound.json")),
                      reply(200, R"({"ports": [{"id": "p2"}]})")};
  capture<std::vector<port>> got;
  uut().list_ports({}, got.cb());
  BOOST_REQUIRE(got.ok());
  BOOST_REQUIRE(got.value->value().size() == 1u);
  BOOST_TEST(got.value->value()[0].id == "p2");
  BOOST_TEST(transport.calls[3].url == "http://cloud.test:9696/v2.0/ports");
}

BOOST_AUTO_TEST_CASE(name_filter_is_rechecked_exactly) {
  transport.script = {token_reply(), reply(200, R"({"servers": [)" + server_body("1", "web-1") + ","
                                                  + server_body("2", "web-10") + ","
                                                  + server_body("3", "myweb-1") + "]}")};
  server_filters filters;
  filters.name = "web-1";
  capture<std::vector<server>> got;
  uut().list_servers_detail(filters, got.cb());
  BOOST_REQUIRE(got.ok());
  BOOST_REQUIRE(got.value->value().size() == 1u);
  BOOST_TEST(got.value->value()[0].id == "1");
  BOOST_TEST(transport.calls[1].url.find("name=%5Eweb-1%24") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(catalog_endpoint_outside_the_allowlist_is_refused) {
  cfg.credentials.auth_url = "http://keystone.test:5000/v3";
  transport.script = {token_reply(1h, "t", "http://evil.test")};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_TEST(got.kind() == "endpoint_refused");
  BOOST_TEST(got.value->error().message.find("evil.test") != std::string::npos);
  BOOST_REQUIRE(transport.calls.size() == 1u);
  BOOST_TEST(transport.calls[0].url.find("keystone.test") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(explicit_allowlist_admits_listed_endpoints) {
  cfg.credentials.auth_url = "http://keystone.test:5000/v3";
  cfg.endpoint_allowlist = {"http://cloud.test:8774/v2.1"};
  transport.script = {token_reply(), server_reply("s"), token_reply()};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_TEST(got.kind() == "ok");
  capture<network> net;
  uut().get_network("n", net.cb());
  BOOST_TEST(net.kind() == "endpoint_refused");
}

BOOST_AUTO_TEST_CASE(missing_region_is_endpoint_refused) {
  cfg.region = "RegionNine";
  transport.script = {token_reply()};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_TEST(got.kind() == "endpoint_refused");
}

BOOST_AUTO_TEST_CASE(delete_counts_404_as_done) {
  transport.script = {token_reply(), reply(404, read_sample("nova/error-404-itemNotFound.json")),
                      reply(204), reply(409, read_sample("neutron/error-409-NetworkInUse.json"))};
  capture<done> gone;
  uut().delete_server("s", gone.cb());
  BOOST_TEST(gone.kind() == "ok");
  capture<done> deleted;
  uut().delete_volume("v", deleted.cb());
  BOOST_TEST(deleted.kind() == "ok");
  BOOST_TEST(transport.calls[2].url == "http://cloud.test:8776/v3/p1/volumes/v");
  BOOST_TEST(*find_header(transport.calls[2].headers, "OpenStack-API-Version") == "volume 3.60");
  capture<done> busy;
  uut().delete_network("n", busy.cb());
  BOOST_TEST(busy.kind() == "conflict");
  BOOST_TEST(busy.value->error().code == "NetworkInUse");
}

BOOST_AUTO_TEST_CASE(ids_are_encoded_into_paths) {
  transport.script = {token_reply(), server_reply("x")};
  capture<server> got;
  uut().get_server("../../admin?x=1", got.cb());
  BOOST_TEST(transport.calls[1].url
             == "http://cloud.test:8774/v2.1/servers/..%2F..%2Fadmin%3Fx%3D1");
}

BOOST_AUTO_TEST_CASE(neutron_operations_use_v2_paths_and_tag_filters) {
  transport.script = {token_reply(),
                      reply(201, read_sample("neutron/network-create-response.json")),
                      reply(200, read_sample("neutron/tags-replace-response.json")),
                      reply(200, R"({"networks": []})"),
                      reply(200, read_sample("neutron/router-add-interface-response.json")),
                      reply(200, read_sample("neutron/ports-list-by-device-id-devstack.json"))};
  network_spec spec;
  spec.name = "net1";
  capture<network> net;
  uut().create_network(spec, net.cb());
  BOOST_TEST(net.kind() == "ok");
  BOOST_TEST(transport.calls[1].url == "http://cloud.test:9696/v2.0/networks");
  capture<std::vector<std::string>> tags;
  uut().replace_tags(neutron_collection::networks, net.value->value().id, {"red", "blue"},
                     tags.cb());
  BOOST_TEST(tags.kind() == "ok");
  BOOST_TEST(transport.calls[2].method == "PUT");
  BOOST_TEST(transport.calls[2].url.find("/v2.0/networks/4e8e5957") != std::string::npos);
  capture<std::vector<network>> found;
  uut().find_networks_by_tags({"orch-deployment=d1"}, found.cb());
  BOOST_TEST(found.kind() == "ok");
  BOOST_TEST(transport.calls[3].url
             == "http://cloud.test:9696/v2.0/networks?tags=orch-deployment%3Dd1");
  capture<router_interface> itf;
  uut().add_router_interface("r1", "sub1", itf.cb());
  BOOST_TEST(itf.kind() == "ok");
  BOOST_TEST(transport.calls[4].url
             == "http://cloud.test:9696/v2.0/routers/r1/add_router_interface");
  capture<std::vector<port>> ports;
  uut().list_ports({"6dc2e525", "", "", {}}, ports.cb());
  BOOST_TEST(ports.kind() == "ok");
  BOOST_TEST(transport.calls[5].url == "http://cloud.test:9696/v2.0/ports?device_id=6dc2e525");
}

BOOST_AUTO_TEST_CASE(flavors_and_images_are_found_by_name) {
  transport.script = {token_reply(), reply(200, read_sample("nova/flavors-detail-resp-v2.75.json")),
                      reply(200, read_sample("glance/images-list-response.json")),
                      reply(200, read_sample("nova/flavors-detail-resp-v2.75.json"))};
  capture<flavor> fl;
  uut().find_flavor("m1.small", fl.cb());
  BOOST_REQUIRE(fl.ok());
  BOOST_TEST(fl.value->value().id == "2");
  capture<image> img;
  uut().find_image("cirros-0.3.2-x86_64-disk", img.cb());
  BOOST_REQUIRE(img.ok());
  BOOST_TEST(img.value->value().id == "1bea47ed-f6a9-463b-b423-14b9cca9ad27");
  BOOST_TEST(transport.calls[2].url.find("http://cloud.test:9292/v2/images?name=") == 0u);
  capture<flavor> none;
  uut().find_flavor("m9.huge", none.cb());
  BOOST_TEST(none.kind() == "not_found");
}

BOOST_AUTO_TEST_CASE(volume_attach_handles_both_microversion_answers) {
  transport.script
    = {token_reply(), reply(200, read_sample("nova/volume-attach-resp-v2.79.json")), reply(202)};
  capture<volume_attachment> old_style;
  uut().attach_volume("09b3b9d1", "a07f71dc-8151-4e7d-a0cc-cd24a3f11113", true, old_style.cb());
  BOOST_REQUIRE(old_style.ok());
  BOOST_TEST(old_style.value->value().device == "/dev/sdb");
  capture<volume_attachment> new_style;
  uut().attach_volume("srv", "vol", false, new_style.cb());
  BOOST_REQUIRE(new_style.ok());
  BOOST_TEST(new_style.value->value().volume_id == "vol");
  BOOST_TEST(new_style.value->value().server_id == "srv");
}

BOOST_AUTO_TEST_CASE(server_actions_are_not_retried_after_a_5xx) {
  transport.script = {token_reply(), reply(202), reply(502)};
  capture<done> resized;
  uut().run_server_action("s", {server_action_kind::resize, "2", {}}, resized.cb());
  BOOST_TEST(resized.kind() == "ok");
  BOOST_TEST(transport.calls[1].body == R"({"resize":{"flavorRef":"2"}})");
  capture<done> confirm;
  uut().run_server_action("s", {server_action_kind::confirm_resize, {}, {}}, confirm.cb());
  BOOST_TEST(confirm.kind() == "outcome_unknown");
  BOOST_TEST(transport.count("POST", "/servers/s/action") == 2u);
}

BOOST_AUTO_TEST_CASE(every_failure_point_yields_exactly_one_answer) {
  // Fails the n-th call of a create / list / delete sequence with each transport error and
  // checks that each operation answers once, that a create is never sent twice after a
  // possibly executed attempt, and that the client recovers when retrying is safe.
  server_spec spec;
  spec.name = "vm";
  spec.flavor_ref = "1";
  spec.image_ref = "img";
  for (auto error : {transport_error::connect_failed, transport_error::timeout,
                     transport_error::connection_reset, transport_error::response_too_large}) {
    for (size_t n = 1; n <= 6; ++n) {
      BOOST_TEST_CONTEXT("error " << to_string(error) << ", call " << n) {
        fake_clock c;
        fake_timer t{c};
        fake_transport tr;
        tr.fail_at = n;
        tr.fail_with = error;
        tr.responder = [](const http_call& call) {
          if (call.url.find("/auth/tokens") != std::string::npos) return token_reply();
          if (call.method == "POST") return reply(202, read_sample("nova/server-create-resp.json"));
          if (call.method == "DELETE") return reply(204);
          return reply(200, R"({"servers": []})");
        };
        os_client uut{cfg, tr, t, c, [] { return 0.5; }};
        capture<created_server> created;
        capture<std::vector<server>> listed;
        capture<done> deleted;
        uut.create_server(spec, created.cb());
        t.run_all();
        uut.list_servers_detail({}, listed.cb());
        t.run_all();
        uut.delete_server("s", deleted.cb());
        t.run_all();
        BOOST_TEST(created.calls == 1);
        BOOST_TEST(listed.calls == 1);
        BOOST_TEST(deleted.calls == 1);
        auto posts = tr.count("POST", "/servers");
        if (created.kind() == "outcome_unknown")
          BOOST_TEST(posts == 1u);
        else if (created.ok())
          BOOST_TEST(posts == (error == transport_error::connect_failed && n == 2 ? 2u : 1u));
        if (error != transport_error::response_too_large) {
          BOOST_TEST(listed.kind() == "ok");
          BOOST_TEST(deleted.kind() == "ok");
        }
        BOOST_TEST(uut.in_flight() == 0u);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(destroying_the_client_drops_pending_callbacks) {
  transport.hold = true;
  transport.script = {token_reply()};
  capture<server> got;
  {
    os_client c{cfg, transport, tmr, clk, [] { return 0.5; }};
    c.get_server("s", got.cb());
  }
  transport.release_all();
  BOOST_TEST(got.calls == 0);
}

BOOST_AUTO_TEST_CASE(observer_reports_service_method_status_and_latency) {
  transport.hold = true;
  transport.script = {token_reply(), reply(404)};
  capture<server> got;
  uut().get_server("s", got.cb());
  clk.advance(120ms);
  BOOST_REQUIRE(transport.release_one()); // the token; then the GET goes out and is held
  clk.advance(30ms);
  BOOST_REQUIRE(transport.release_one());
  BOOST_REQUIRE(observer.calls.size() == 2u);
  BOOST_TEST(to_string(observer.calls[0].svc) == "identity");
  BOOST_TEST(status_label(observer.calls[0]) == "201");
  BOOST_TEST(observer.calls[0].latency.count() == 120);
  BOOST_TEST(to_string(observer.calls[1].svc) == "compute");
  BOOST_TEST(observer.calls[1].method == "GET");
  BOOST_TEST(status_label(observer.calls[1]) == "404");
  BOOST_TEST(observer.calls[1].latency.count() == 30);
  BOOST_TEST(got.kind() == "not_found");
}

BOOST_AUTO_TEST_CASE(config_from_the_environment_authenticates_by_names) {
  orch::openstack_config env;
  env.auth_url = "http://cloud.test:5000/v3";
  env.username = "orch";
  env.password = password;
  env.project_name = "demo";
  env.region = "RegionOne";
  cfg = make_client_config(env);
  transport.script = {token_reply(), server_reply("s")};
  capture<server> got;
  uut().get_server("s", got.cb());
  BOOST_TEST(got.kind() == "ok");
  BOOST_TEST(transport.calls[0].body.find(R"("domain":{"name":"Default"})") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
