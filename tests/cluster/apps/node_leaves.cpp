// SIGTERM to one node of two: it stops its actors, then hands its leases over, and the other
// node takes them at its next heartbeat instead of waiting for them to run out.

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;
using namespace orch::testing::cluster;

namespace {

constexpr int deployments = 10;

constexpr const char* busy_leases_of_a
  = "SELECT count(*) FROM deployments WHERE lease_owner = 'node-a' AND status IN ('PENDING', "
    "'IN_PROGRESS', 'UPDATING', 'CONFIGURING', 'SCALING', 'DELETING')";

} // namespace

BOOST_AUTO_TEST_SUITE(node_leaves)

BOOST_AUTO_TEST_CASE(a_leaving_node_s_leases_are_taken_over_at_once) {
  cluster_fixture c{orch::testing::crash::crash_template_json, "leaves", deployments};
  auto& a = c.launch("node-a");
  auto& b = c.launch("node-b");
  c.await_listening(a);
  c.await_listening(b);
  c.talk_to(a);
  c.fx.store_template(orch::testing::crash::crash_template_json);
  for (int i = 0; i < deployments; ++i) c.post_through(a, "l-" + std::to_string(i));
  std::this_thread::sleep_for(1500ms);
  auto held = std::stoi(c.query(busy_leases_of_a));
  BOOST_TEST_REQUIRE(held > 0, "node-a finished everything before it was stopped");
  auto sent = std::chrono::steady_clock::now();
  BOOST_TEST(a.process->stop(SIGTERM) == 0);
  auto exited = std::chrono::steady_clock::now();
  BOOST_TEST(a.process->log().find("handing over") != std::string::npos);
  std::chrono::milliseconds handover{-1};
  while (std::chrono::steady_clock::now() - exited < 30s) {
    if (std::stoi(c.query(busy_leases_of_a)) == 0) {
      handover = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - exited);
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  auto shutdown = std::chrono::duration_cast<std::chrono::milliseconds>(exited - sent);
  BOOST_TEST_MESSAGE("node-a held " << held << " busy lease(s); it exited " << shutdown.count()
                                    << " ms after SIGTERM, and node-b held them all "
                                    << handover.count() << " ms after that (heartbeat "
                                    << test_heartbeat << ", lease " << test_lease << ")");
  BOOST_TEST(handover.count() >= 0);
  // Taken over within a couple of heartbeats, not after the lease ran out.
  BOOST_TEST(handover < test_lease_ms);
  c.talk_to(b);
  auto last = c.fx.await_statuses({"COMPLETED", "FAILED"}, 120s);
  for (const auto& [id, status] : last) BOOST_TEST(status == "COMPLETED", id << " is " << status);
  auto st = c.fx.sim.state();
  c.fx.check_exactly_deployed(st);
}

BOOST_AUTO_TEST_SUITE_END()
