// The OpenStack client over the Beast transport against the real simulator.

#include <chrono>
#include <set>
#include <string>

#include <boost/test/unit_test.hpp>

#include "orch/openstack/client.hpp"
#include "sim_fixture.hpp"

using namespace orch::openstack;
using namespace orch::openstack::testing;
using namespace std::chrono_literals;

namespace {

template <class T>
std::string kind_of(const result<T>& r) {
  return r.ok() ? "ok" : to_string(r.error().kind);
}

/// One client configuration for fast failure tests: few retries, short breaker.
client_config quick_config(const sim_process& sim) {
  auto cfg = client_env::default_config(sim);
  cfg.retry.max_attempts = 1;
  cfg.retry.base_delay = 10ms;
  cfg.breaker.failure_threshold = 3;
  cfg.breaker.open_duration = 1s;
  return cfg;
}

std::string image_id(client_env& env) {
  auto img = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
  BOOST_REQUIRE_MESSAGE(img.ok(), kind_of(img));
  return img->id;
}

} // namespace

BOOST_AUTO_TEST_SUITE(client_on_sim)

BOOST_AUTO_TEST_CASE(each_error_class_is_mapped_from_the_wire) {
  sim_process sim{{"--quota-instances", "1"}};
  client_env env{sim, quick_config(sim)};
  auto missing = env.await<server>([&](auto cb) { env.os->get_server("no-such-server", cb); });
  BOOST_TEST(kind_of(missing) == "not_found");
  BOOST_TEST(missing.error().http_status == 404);
  BOOST_TEST(!missing.error().request_id.empty());

  auto img = image_id(env);
  auto first = env.await<created_server>(
    [&](auto cb) { env.os->create_server(tiny_server("q1", img), cb); });
  BOOST_REQUIRE_MESSAGE(first.ok(), kind_of(first));
  auto second = env.await<created_server>(
    [&](auto cb) { env.os->create_server(tiny_server("q2", img), cb); });
  BOOST_TEST(kind_of(second) == "quota");
  BOOST_TEST(second.error().http_status == 403);

  struct rule_case {
    int status;
    std::string expected;
  };
  for (auto& c : std::vector<rule_case>{{409, "conflict"},
                                        {400, "bad_request"},
                                        {500, "transient"},
                                        {503, "transient"},
                                        {429, "rate_limited"}}) {
    sim.clear_faults();
    sim.add_fault(R"({"route": "/compute/v2.1/servers/{id}", "method": "GET", "status": )"
                  + std::to_string(c.status) + R"(, "count": 1})");
    auto got = env.await<server>([&](auto cb) { env.os->get_server(first->id, cb); });
    BOOST_TEST(kind_of(got) == c.expected, "status " << c.status);
    BOOST_TEST(got.error().http_status == c.status);
  }
  sim.clear_faults();

  auto wrong_cfg = quick_config(sim);
  wrong_cfg.credentials.password = "wrong-password";
  client_env wrong{sim, wrong_cfg};
  auto refused = wrong.await<server>([&](auto cb) { wrong.os->get_server(first->id, cb); });
  BOOST_TEST(kind_of(refused) == "auth");
  BOOST_TEST(to_string(refused.error()).find("wrong-password") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(expired_token_is_replaced_in_the_middle_of_a_run) {
  sim_process sim{{"--token-ttl", "1s"}};
  auto cfg = client_env::default_config(sim);
  // No early refresh: a token may expire under a call, then the cloud's 401 drives renewal.
  cfg.token_refresh_margin = 0ms;
  client_env env{sim, cfg};
  auto img = image_id(env);
  int ok = 0;
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 2500ms) {
    auto r = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
    BOOST_REQUIRE_MESSAGE(r.ok(), kind_of(r));
    BOOST_TEST(r->id == img);
    ++ok;
    // Let the token age between calls; the run itself is what spans the expiry.
    env.run_until([] { return false; }, 100ms);
  }
  BOOST_TEST(ok > 5);
  // One token lives 1 s: a 2.5 s run needs at least two renewals, none of them visible.
  BOOST_TEST(env.observer.auths.size() >= 3u);
}

BOOST_AUTO_TEST_CASE(storm_of_503_opens_the_breaker_and_a_probe_closes_it) {
  sim_process sim;
  client_env env{sim, quick_config(sim)};
  auto img = image_id(env);
  sim.add_fault(R"({"route": "/image/v2/images", "method": "GET", "status": 503})");
  for (int i = 0; i < 3; ++i) {
    auto r = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
    BOOST_TEST(kind_of(r) == "transient");
  }
  BOOST_TEST((env.os->breaker(service::image) == breaker_state::open));
  sim.reset_calls();
  auto refused = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
  BOOST_TEST(kind_of(refused) == "circuit_open");
  BOOST_TEST(sim.calls("GET", "/image/v2/images") == 0, "an open breaker sends nothing");
  sim.clear_faults();
  // The breaker's open time runs on the real clock.
  env.run_until([] { return false; }, 1100ms);
  auto probe = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
  BOOST_TEST(kind_of(probe) == "ok");
  BOOST_TEST((env.os->breaker(service::image) == breaker_state::closed));
  std::vector<breaker_state> seen;
  for (auto& [svc, st] : env.observer.breaker_changes)
    if (svc == service::image) seen.push_back(st);
  BOOST_TEST((seen
              == std::vector<breaker_state>{breaker_state::open, breaker_state::half_open,
                                            breaker_state::closed}));
}

BOOST_AUTO_TEST_CASE(retry_after_is_waited_for) {
  sim_process sim;
  client_env env{sim};
  auto img = image_id(env);
  sim.add_fault(
    R"({"route": "/image/v2/images", "method": "GET", "status": 429, "retry_after": 1, "count": 1})");
  auto start = std::chrono::steady_clock::now();
  auto r = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(kind_of(r) == "ok");
  BOOST_TEST((took >= 1s), "took "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                             << " ms");
  BOOST_REQUIRE(env.observer.retries.size() == 1u);
  BOOST_TEST(env.observer.retries[0].second >= 1000ms);
}

BOOST_AUTO_TEST_CASE(lost_create_answer_is_outcome_unknown_without_a_duplicate) {
  sim_process sim;
  client_env env{sim, quick_config(sim)};
  auto img = image_id(env);
  // The answer is lost after the server acted: the create is slow and our timeout short.
  sim.add_fault(
    R"({"route": "/compute/v2.1/servers", "method": "POST", "latency_ms": 1500, "count": 1})");
  auto cfg = quick_config(sim);
  cfg.call_timeout = 500ms;
  cfg.retry.max_attempts = 5;
  client_env impatient{sim, cfg};
  auto lost = impatient.await<created_server>(
    [&](auto cb) { impatient.os->create_server(tiny_server("once", img), cb); });
  BOOST_TEST(kind_of(lost) == "outcome_unknown");
  BOOST_TEST(sim.calls("POST", "/compute/v2.1/servers") == 1, "never repeated");
  // The connection is dropped instead (today an empty 502 with Connection: close).
  sim.clear_faults();
  sim.add_fault(
    R"({"route": "/compute/v2.1/servers", "method": "POST", "drop": true, "count": 1})");
  auto dropped = impatient.await<created_server>(
    [&](auto cb) { impatient.os->create_server(tiny_server("twice", img), cb); });
  BOOST_TEST(kind_of(dropped) == "outcome_unknown");
  BOOST_TEST(sim.calls("POST", "/compute/v2.1/servers") == 2);
  // Let the slow create finish, then count what exists.
  impatient.run_until([] { return false; }, 1200ms);
  server_filters by_name;
  by_name.name = "once";
  auto found
    = env.await<std::vector<server>>([&](auto cb) { env.os->list_servers_detail(by_name, cb); });
  BOOST_REQUIRE(found.ok());
  BOOST_TEST(found->size() == 1u, "the lost create happened exactly once");
  by_name.name = "twice";
  found
    = env.await<std::vector<server>>([&](auto cb) { env.os->list_servers_detail(by_name, cb); });
  BOOST_REQUIRE(found.ok());
  BOOST_TEST(found->size() <= 1u);
}

BOOST_AUTO_TEST_CASE(listing_follows_every_page_of_1000_servers) {
  sim_process sim{
    {"--quota-instances", "2000", "--quota-cores", "100000", "--quota-ram", "100000000"}};
  auto cfg = client_env::default_config(sim);
  cfg.max_in_flight = 16;
  client_env env{sim, cfg};
  auto img = image_id(env);
  int created = 0;
  int failed = 0;
  for (int i = 0; i < 1000; ++i)
    env.os->create_server(tiny_server("page-" + std::to_string(i), img),
                          [&](result<created_server> r) { ++(r.ok() ? created : failed); });
  BOOST_REQUIRE(env.run_until([&] { return created + failed == 1000; }, 120s));
  BOOST_REQUIRE(created == 1000);
  sim.reset_calls();
  server_filters filters;
  filters.limit = 100;
  auto all
    = env.await<std::vector<server>>([&](auto cb) { env.os->list_servers_detail(filters, cb); });
  BOOST_REQUIRE(all.ok());
  BOOST_TEST(all->size() == 1000u);
  std::set<std::string> ids;
  for (auto& s : *all) ids.insert(s.id);
  BOOST_TEST(ids.size() == 1000u);
  BOOST_TEST(sim.calls("GET", "/compute/v2.1/servers/detail") >= 10);
  BOOST_TEST(env.transport->connections_opened() <= 17u, "keep-alive connections were reused");
}

BOOST_AUTO_TEST_CASE(endpoint_outside_the_allowlist_is_refused_unsent) {
  sim_process sim;
  auto cfg = client_env::default_config(sim);
  cfg.endpoint_allowlist = {sim.base_url() + "/identity", sim.base_url() + "/image"};
  client_env env{sim, cfg};
  auto img = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
  BOOST_TEST(kind_of(img) == "ok");
  sim.reset_calls();
  auto refused = env.await<server>([&](auto cb) { env.os->get_server("x", cb); });
  BOOST_TEST(kind_of(refused) == "endpoint_refused");
  BOOST_TEST(sim.calls("GET", "/compute/v2.1/servers/{id}") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
