// Two nodes started at the same moment on a database with 50 unfinished deployments, whose
// node died: each deployment is resumed by exactly one of them (no steal, no duplicate create).

#include <chrono>
#include <csignal>
#include <string>

#include <boost/test/unit_test.hpp>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;
using namespace orch::testing::cluster;

namespace {

// One VM with a volume on one subnet: 50 of them stay within the CI budget.
constexpr const char* small_template_json = R"({
  "name": "crash-stack",
  "description": "one VM with a volume on a subnet",
  "vm_config": {"app": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 1,
                        "volumes": [{"size_gb": 1}]}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"app": "10.0.1.0/24"}}
})";

constexpr int deployments = 50;

} // namespace

BOOST_AUTO_TEST_SUITE(nodes_start_together)

BOOST_AUTO_TEST_CASE(each_unfinished_deployment_is_resumed_by_exactly_one_node) {
  cluster_fixture c{small_template_json, "start-together", deployments};
  // The node that accepted them works on one at a time and dies: the others are still PENDING
  // and free, one is leased to the dead node until its lease runs out.
  auto& first = c.launch("node-first", {{"MAX_ACTIVE_DEPLOYMENTS", "1"}});
  c.await_listening(first);
  c.talk_to(first);
  c.fx.store_template(small_template_json);
  for (int i = 0; i < deployments; ++i) c.post_through(first, "st-" + std::to_string(i));
  BOOST_TEST(first.process->stop(SIGKILL) == 128 + SIGKILL);
  auto unfinished = std::stoi(
    c.query("SELECT count(*) FROM deployments WHERE status IN ('PENDING', 'IN_PROGRESS')"));
  BOOST_TEST_MESSAGE(unfinished << " unfinished deployments when node-first died");
  BOOST_TEST(unfinished >= deployments - 2);

  auto started = std::chrono::steady_clock::now();
  auto& a = c.launch("node-a");
  auto& b = c.launch("node-b");
  c.await_listening(a);
  c.await_listening(b);
  c.talk_to(a);
  auto last = c.fx.await_statuses({"COMPLETED", "FAILED"}, 150s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                                    - started);
  for (const auto& [id, status] : last) BOOST_TEST(status == "COMPLETED", id << " is " << status);

  // One claim per deployment: the lease of node-first's one was taken over (epoch 2), every
  // other deployment was claimed once, by one node (epoch 1). A steal would bump it again.
  BOOST_TEST(std::stoi(c.query("SELECT count(*) FROM deployments WHERE epoch > 2")) == 0);
  BOOST_TEST(std::stoi(c.query("SELECT count(*) FROM deployments WHERE epoch = 2")) <= 1);
  BOOST_TEST(std::stoi(c.query("SELECT count(*) FROM deployments WHERE epoch = 0")) == 0);
  auto refused_a = c.count_in_log(a, "not claimed");
  auto refused_b = c.count_in_log(b, "not claimed");
  BOOST_TEST_MESSAGE("50 deployments finished " << took.count() << " ms after the two nodes were "
                                                << "started; claims refused (the other node held "
                                                << "the lease): node-a " << refused_a << ", node-b "
                                                << refused_b);
  // The finished deployments' actors have not passivated yet: their leases still show who ran
  // them.
  BOOST_TEST_MESSAGE("deployments per node: " << c.query(
                       "SELECT string_agg(lease_owner || ' ' || n, ', ') FROM (SELECT "
                       "lease_owner, count(*) AS n FROM deployments GROUP BY lease_owner "
                       "ORDER BY lease_owner) x"));
  auto st = c.fx.sim.state();
  c.fx.check_exactly_deployed(st);
  auto server_creates = c.fx.sim.calls("POST", "/compute/v2.1/servers");
  BOOST_TEST_MESSAGE("the cloud saw " << server_creates << " server creates for " << deployments
                                      << " servers");
  BOOST_TEST(server_creates == deployments);
}

BOOST_AUTO_TEST_SUITE_END()
