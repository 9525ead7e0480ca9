#include <chrono>
#include <map>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "node_fixture.hpp"

using namespace orch;
using namespace std::chrono_literals;
using orch::testing::node_fixture;

BOOST_FIXTURE_TEST_SUITE(deploy_on_sim, node_fixture)

BOOST_AUTO_TEST_CASE(three_tier_template_deploys_to_completed_and_delete_leaves_nothing) {
  auto id = create_deployment("shop");
  engine->start(id);
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed});
  BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::completed,
                        "FAILED: " << (rec.operation && rec.operation->error
                                         ? rec.operation->error->message
                                         : std::string{"?"}));
  BOOST_TEST(rec.resources.vms.size() == 6u);
  BOOST_TEST(rec.resources.volumes.size() == 3u);
  auto owner = "orch-deployment=" + to_string(id);
  auto st = sim.state();
  // Network: ours plus `public`, tagged.
  std::string net_id;
  for (const auto& n : st["networks"].GetArray())
    if (str(n, "name") == "shop-net") {
      net_id = str(n, "id");
      BOOST_TEST(has_tag(n, owner));
    }
  BOOST_TEST(!net_id.empty());
  std::map<std::string, std::string> subnet_by_name;
  for (const auto& s : st["subnets"].GetArray())
    if (str(s, "network_id") == net_id) subnet_by_name[str(s, "name")] = str(s, "id");
  BOOST_TEST(subnet_by_name.size() == 3u);
  BOOST_TEST(st["routers"].Size() == 1u);
  // Six servers, ACTIVE, tagged, each with one port on its group's subnet.
  BOOST_TEST(st["servers"].Size() == 6u);
  for (const auto& s : st["servers"].GetArray()) {
    auto name = str(s, "name");
    BOOST_TEST_CONTEXT("server " << name) {
      BOOST_TEST(str(s, "status") == "ACTIVE");
      BOOST_TEST(has_tag(s, owner));
      auto group = name.substr(5, name.rfind('-') - 5); // shop-<group>-<n>
      int ports = 0;
      for (const auto& p : st["ports"].GetArray())
        if (str(p, "device_id") == str(s, "id")) {
          ++ports;
          BOOST_TEST(str(p["fixed_ips"][0], "subnet_id") == subnet_by_name["shop-" + group]);
        }
      BOOST_TEST(ports == 1);
    }
  }
  // Router interfaces on the three subnets.
  int interfaces = 0;
  for (const auto& p : st["ports"].GetArray())
    if (str(p, "device_owner") == "network:router_interface") ++interfaces;
  BOOST_TEST(interfaces == 3);
  // Three volumes, in use by app servers.
  BOOST_TEST(st["volumes"].Size() == 3u);
  for (const auto& v : st["volumes"].GetArray()) BOOST_TEST(str(v, "status") == "in-use");

  auto removed = remove(id);
  BOOST_TEST(removed.status == deployment_status::deleting);
  wait_for(id, {deployment_status::deleted});
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_CASE(node_restart_mid_deploy_resumes_without_duplicate_resources) {
  auto id = create_deployment("resumed");
  engine->start(id);
  // Stop the node as soon as the first VM is recorded: creates are in flight then.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto rec = repo->get(id);
    BOOST_REQUIRE(rec);
    if (!rec->resources.vms.empty()) break;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "no VM recorded");
    std::this_thread::sleep_for(20ms);
  }
  engine.reset();
  sys->await_all_actors_done();
  engine = spawn_engine(true); // a node start picks the deployment up again
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed});
  BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::completed, describe(rec));
  auto st = sim.state();
  BOOST_TEST(st["servers"].Size() == 6u);
  BOOST_TEST(st["volumes"].Size() == 3u);
  BOOST_TEST(st["routers"].Size() == 1u);
  BOOST_TEST(st["networks"].Size() == 2u);
  BOOST_TEST(st["subnets"].Size() == 4u); // ours and public's
  remove(id);
  wait_for(id, {deployment_status::deleted});
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_CASE(permanent_boot_failure_fails_with_the_reason_and_delete_cleans_up) {
  auto [status, body] = sim.control("POST", "/_sim/boot-failures", R"({"count": 100})");
  BOOST_REQUIRE_MESSAGE(status / 100 == 2, body);
  auto id = create_deployment("broken");
  engine->start(id);
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed});
  BOOST_REQUIRE(rec.status == deployment_status::failed);
  BOOST_REQUIRE(rec.operation && rec.operation->error);
  BOOST_TEST(rec.operation->error->code == "server_error");
  BOOST_TEST(rec.operation->error->message.find("No valid host") != std::string::npos);
  sim.control("DELETE", "/_sim/faults");
  remove(id);
  wait_for(id, {deployment_status::deleted});
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_SUITE_END()
