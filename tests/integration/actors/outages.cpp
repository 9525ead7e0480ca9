// The deployment engine through outages of everything it depends on: a 503 storm on every
// OpenStack service (Keystone included), answers lost after the cloud acted, short-lived tokens,
// a PostgreSQL that goes away, and a crowd of DELETEs. Each case ends with exactly the requested
// resources in the simulator, or none after a delete.

#include <chrono>
#include <cstdlib>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "node_fixture.hpp"
#include "orch/errc.hpp"

using namespace orch;
using namespace std::chrono_literals;
using orch::testing::node_fixture;

namespace {

/// Two VMs, one with a volume, on one subnet behind a router: every kind of create once.
template_spec small_stack() {
  template_spec spec;
  spec.name = "small";
  spec.vm_config = {
    {"web", {"m1.small", "ubuntu-22.04", 1, std::nullopt, {}}},
    {"app", {"m1.small", "ubuntu-22.04", 1, std::nullopt, {volume_spec{1, ""}}}},
  };
  spec.network_config.cidr = "10.0.0.0/16";
  spec.network_config.subnets = {{"web", "10.0.1.0/24"}};
  spec.network_config.router = true;
  spec.network_config.external_network = "public";
  return spec;
}

std::vector<std::string> roomy_sim(std::vector<std::string> extra = {}) {
  auto flags = orch::testing::default_sim_flags();
  flags.insert(flags.end(), {"--quota-instances", "100", "--quota-cores", "200", "--quota-ram",
                             "1000000", "--quota-volumes", "100"});
  flags.insert(flags.end(), extra.begin(), extra.end());
  return flags;
}

/// Breakers that reopen within a second or two (production: 30 s) and quick call timeouts, so
/// the cases run in seconds.
struct outage_node : node_fixture {
  explicit outage_node(std::vector<std::string> extra = {})
    : node_fixture(roomy_sim(std::move(extra)), [](actors::openstack_commands_config& occ) {
        occ.client.breaker.open_duration = 2s;
        occ.client.call_timeout = 2s;
        // Longer than the storm (production: 10 min). A boot wait that cannot read the VM's
        // status for its whole timeout rightly fails; these cases show that nothing gives up
        // while the cloud fails for less than that, also on a loaded machine where the VMs of
        // the first deployments are still booting when the storm begins.
        occ.boot_timeout = 120s;
      }) {
    // nop
  }

  /// Counts what the simulator holds, by kind.
  std::map<std::string, size_t> counts() {
    auto st = sim.state();
    std::map<std::string, size_t> result;
    for (const auto* kind : {"servers", "volumes", "routers", "ports", "networks", "subnets"})
      result[kind] = st[kind].Size();
    return result;
  }

  /// Exactly what `n` deployments of `small_stack` need: 2 servers, 1 volume, 1 router,
  /// 1 network and 1 subnet each; ports: one per server plus the router's interface and
  /// gateway.
  void check_exactly(size_t n) {
    auto c = counts();
    BOOST_TEST(c["servers"] == 2 * n);
    BOOST_TEST(c["volumes"] == n);
    BOOST_TEST(c["routers"] == n);
    BOOST_TEST(c["networks"] == n + 1); // + the simulator's `public`
    BOOST_TEST(c["subnets"] == n + 1);
    BOOST_TEST(c["ports"] == 4 * n);
  }
};

struct short_token_node : outage_node {
  short_token_node() : outage_node({"--token-ttl", "3s", "--boot-time", "fixed:2s"}) {
    // nop
  }
};

struct slow_boot_node : outage_node {
  slow_boot_node() : outage_node({"--boot-time", "fixed:3s"}) {
    // nop
  }
};

void db_ctl(const std::string& what) {
  const char* ctl = std::getenv("ORCH_TEST_DB_CTL");
  BOOST_TEST_REQUIRE(ctl != nullptr, "ORCH_TEST_DB_CTL is not set");
  auto cmd = std::string{ctl} + " " + what + " >/dev/null 2>&1";
  BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0, "'" << cmd << "' failed");
}

} // namespace

BOOST_AUTO_TEST_SUITE(outages)

BOOST_FIXTURE_TEST_CASE(a_30_s_503_storm_on_every_service_then_recovery_completes_all,
                        outage_node) {
  std::vector<uuid> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(create_deployment("before-" + std::to_string(i), small_stack()));
  for (const auto& id : ids) engine->start(id);
  std::this_thread::sleep_for(300ms);
  // Every service, Keystone too: revoked tokens make every node authenticate during the storm.
  auto storm = sim.add_fault(R"({"route":"*","method":"*","status":503,"retry_after":1})");
  sim.control("POST", "/_sim/tokens/revoke");
  for (int i = 0; i < 5; ++i) {
    auto id = create_deployment("during-" + std::to_string(i), small_stack());
    engine->start(id);
    ids.push_back(id);
  }
  std::this_thread::sleep_for(30s);
  for (const auto& id : ids) {
    auto rec = repo->get(id);
    BOOST_REQUIRE(rec);
    BOOST_TEST(rec->status != deployment_status::failed, "gave up during the storm");
  }
  sim.control("DELETE", "/_sim/faults");
  for (const auto& id : ids) {
    auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed}, 120s);
    BOOST_TEST(rec.status == deployment_status::completed, describe(rec));
  }
  check_exactly(ids.size());
  (void)storm;
}

BOOST_FIXTURE_TEST_CASE(answers_lost_after_each_kind_of_create_make_nothing_twice, outage_node) {
  // Each create is carried out, but its answer comes after the client gave up (2 s).
  for (const auto* route :
       {"/networking/v2.0/networks", "/networking/v2.0/subnets", "/networking/v2.0/routers",
        "/networking/v2.0/ports", "/compute/v2.1/servers", "/volume/v3/{project}/volumes"})
    sim.add_fault(std::string{R"({"route":")"} + route
                  + R"(","method":"POST","latency_ms":3000,"count":1})");
  auto id = create_deployment("lost", small_stack());
  engine->start(id);
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed}, 120s);
  BOOST_TEST(rec.status == deployment_status::completed, describe(rec));
  check_exactly(1);
  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
}

BOOST_FIXTURE_TEST_CASE(tokens_that_expire_every_3_s_do_not_disturb_deploys, short_token_node) {
  std::vector<uuid> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(create_deployment("ttl-" + std::to_string(i), small_stack()));
    engine->start(ids.back());
  }
  for (const auto& id : ids) {
    auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed}, 120s);
    BOOST_TEST(rec.status == deployment_status::completed, describe(rec));
  }
  check_exactly(ids.size());
}

BOOST_FIXTURE_TEST_CASE(twenty_concurrent_deletes_of_one_deployment_delete_it_once, outage_node) {
  auto id = create_deployment("crowd", small_stack());
  engine->start(id);
  wait_for(id, {deployment_status::completed}, 60s);
  std::vector<std::future<caf::expected<deployment_record>>> answers;
  for (int i = 0; i < 20; ++i)
    answers.push_back(std::async(std::launch::async, [this, id] {
      auto done = std::make_shared<std::promise<caf::expected<deployment_record>>>();
      engine->remove(id, [done](caf::expected<deployment_record> x) { done->set_value(x); });
      auto fut = done->get_future();
      fut.wait_for(60s);
      return fut.get();
    }));
  for (auto& a : answers) {
    auto rec = a.get();
    if (rec)
      BOOST_TEST(
        (rec->status == deployment_status::deleting || rec->status == deployment_status::deleted));
    else
      BOOST_TEST(is(rec.error(), errc::not_found), error_detail(rec.error()));
  }
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
  auto events = repo->events(id, 0, 1000);
  BOOST_REQUIRE(events);
  auto deletes = std::count_if(events->begin(), events->end(), [](const deployment_event& ev) {
    const auto* started = std::get_if<operation_started>(&ev.data);
    return started != nullptr && started->type == operation_type::remove;
  });
  BOOST_TEST(deletes == 1);
}

BOOST_FIXTURE_TEST_CASE(postgresql_stopped_for_15_s_mid_deploy_and_at_actor_start_is_waited_out,
                        slow_boot_node) {
  std::vector<uuid> running;
  for (int i = 0; i < 3; ++i) {
    running.push_back(create_deployment("mid-" + std::to_string(i), small_stack()));
    engine->start(running.back());
  }
  std::vector<uuid> later;
  for (int i = 0; i < 2; ++i)
    later.push_back(create_deployment("start-" + std::to_string(i), small_stack()));
  std::this_thread::sleep_for(1500ms); // servers are booting
  db_ctl("down");
  // Actors started while the database is away wait for it instead of failing.
  for (const auto& id : later) engine->start(id);
  std::this_thread::sleep_for(15s);
  db_ctl("up");
  for (const auto& id : running) {
    auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed}, 120s);
    BOOST_TEST(rec.status == deployment_status::completed, describe(rec));
  }
  for (const auto& id : later) {
    auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed}, 120s);
    BOOST_TEST(rec.status == deployment_status::completed, describe(rec));
  }
  check_exactly(running.size() + later.size());
}

BOOST_AUTO_TEST_SUITE_END()
