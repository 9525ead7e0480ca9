// The status poller against the simulator: many booting servers, few listings.

#include "orch/openstack/status_poller.hpp"

#include <chrono>
#include <map>
#include <string>

#include <boost/test/unit_test.hpp>

#include "sim_fixture.hpp"

using namespace orch::openstack;
using namespace orch::openstack::testing;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(batched_polling)

BOOST_AUTO_TEST_CASE(two_hundred_booting_servers_are_reported_active_with_few_polls) {
  constexpr int count = 200;
  sim_process sim{{"--boot-time", "uniform:1s..6s", "--quota-instances", "1000", "--quota-cores",
                   "100000", "--quota-ram", "100000000"}};
  auto cfg = client_env::default_config(sim);
  cfg.max_in_flight = 16;
  client_env env{sim, cfg};
  auto img = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
  BOOST_REQUIRE(img.ok());
  status_poller uut{*env.os, *env.transport, *env.transport};
  std::map<std::string, wait_result> results;
  int create_failures = 0;
  for (int i = 0; i < count; ++i)
    env.os->create_server(
      tiny_server("boot-" + std::to_string(i), img->id), [&](result<created_server> r) {
        if (!r) {
          ++create_failures;
          return;
        }
        uut.wait_for_server(r->id, env.transport->now() + 60s,
                            [&](const wait_result& w) { results.emplace(w.id, w); });
      });
  BOOST_REQUIRE(env.run_until(
    [&] { return create_failures > 0 || static_cast<int>(results.size()) == count; }, 90s));
  BOOST_REQUIRE(create_failures == 0);
  for (auto& [id, r] : results) BOOST_TEST(to_string(r.outcome) == "reached", id);
  auto lists = sim.calls("GET", "/compute/v2.1/servers/detail");
  auto lookups = sim.calls("GET", "/compute/v2.1/servers/{id}");
  BOOST_TEST_MESSAGE("poll calls for " << count << " servers: " << lists << " listings, " << lookups
                                       << " lookups");
  BOOST_TEST(lists + lookups <= count / 5, "far fewer polls than servers");
  BOOST_TEST(lists >= 2);
  BOOST_TEST(uut.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(server_deleted_while_booting_is_reported_gone) {
  sim_process sim{{"--boot-time", "fixed:1h"}};
  client_env env{sim};
  auto img = env.await<image>([&](auto cb) { env.os->find_image("cirros", cb); });
  BOOST_REQUIRE(img.ok());
  auto made = env.await<created_server>(
    [&](auto cb) { env.os->create_server(tiny_server("doomed", img->id), cb); });
  BOOST_REQUIRE(made.ok());
  status_poller uut{*env.os, *env.transport, *env.transport};
  std::optional<wait_result> got;
  uut.wait_for_server(made->id, env.transport->now() + 30s, [&](const wait_result& w) { got = w; });
  env.run_until([&] { return uut.stats().server_lists >= 1; }, 10s);
  auto del = env.await<done>([&](auto cb) { env.os->delete_server(made->id, cb); });
  BOOST_REQUIRE(del.ok());
  BOOST_REQUIRE(env.run_until([&] { return got.has_value(); }, 30s));
  BOOST_TEST(to_string(got->outcome) == "gone");
}

BOOST_AUTO_TEST_SUITE_END()
