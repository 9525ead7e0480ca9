// `kill -9` of one node of two while deployments of five VMs with volumes run on both: the
// survivor takes the dead node's leases over once they expire and every deployment finishes
// with exactly the requested servers, volumes and ports.

#include <chrono>
#include <csignal>
#include <random>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;
using namespace orch::testing::cluster;

namespace {

constexpr int deployments = 20;

constexpr const char* busy_leases_of_a
  = "SELECT count(*) FROM deployments WHERE lease_owner = 'node-a' AND status IN ('PENDING', "
    "'IN_PROGRESS', 'UPDATING', 'CONFIGURING', 'SCALING', 'DELETING')";

} // namespace

BOOST_AUTO_TEST_SUITE(node_killed)

BOOST_AUTO_TEST_CASE(the_survivor_finishes_the_dead_node_s_deployments) {
  cluster_fixture c{orch::testing::crash::crash_template_json, "killed", deployments};
  auto& a = c.launch("node-a");
  auto& b = c.launch("node-b");
  c.await_listening(a);
  c.await_listening(b);
  c.talk_to(a);
  c.fx.store_template(orch::testing::crash::crash_template_json);
  for (int i = 0; i < deployments; ++i)
    c.post_through(i % 2 == 0 ? a : b, "k-" + std::to_string(i));
  std::uniform_int_distribution<int> delay_ms{200, 3000};
  auto delay = std::chrono::milliseconds{delay_ms(c.fx.rng)};
  std::this_thread::sleep_for(delay);
  BOOST_TEST(a.process->stop(SIGKILL) == 128 + SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  auto orphaned = std::stoi(c.query(busy_leases_of_a));
  BOOST_TEST_MESSAGE("node-a killed " << delay.count() << " ms after the last request, holding "
                                      << orphaned << " busy deployment(s) (seed " << c.fx.seed
                                      << ")");
  // The failover: until the survivor holds every lease of the dead node.
  std::chrono::milliseconds failover{-1};
  while (std::chrono::steady_clock::now() - killed < 60s) {
    if (std::stoi(c.query(busy_leases_of_a)) == 0) {
      failover = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - killed);
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  BOOST_TEST(failover.count() >= 0, "node-b never took node-a's leases over");
  BOOST_TEST_MESSAGE("failover: node-b held every lease of node-a "
                     << failover.count() << " ms after the kill (lease " << test_lease << ")");
  c.talk_to(b);
  auto last = c.fx.await_statuses({"COMPLETED", "FAILED"}, 150s);
  auto finished = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - killed);
  for (const auto& [id, status] : last) BOOST_TEST(status == "COMPLETED", id << " is " << status);
  BOOST_TEST_MESSAGE("all " << deployments << " deployments finished " << finished.count()
                            << " ms after the kill");
  BOOST_TEST(c.metric(b, "cluster_lease_takeovers_total") == double(orphaned));
  BOOST_TEST(c.metric(b, "cluster_nodes") == 1.0);
  auto st = c.fx.sim.state();
  c.fx.check_exactly_deployed(st);
}

BOOST_AUTO_TEST_SUITE_END()
