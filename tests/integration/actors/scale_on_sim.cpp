#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "node_fixture.hpp"
#include "orch/errc.hpp"
#include "sim_fixture.hpp"

using namespace orch;
using namespace std::chrono_literals;
using orch::testing::node_fixture;

namespace {

struct scale_fixture : node_fixture {
  /// Hands a count change of `group` to the engine, as the gateway does, and returns its answer.
  caf::expected<deployment_record> change_count(const uuid& id, operation_type type,
                                                const std::string& group, int count) {
    auto rec = repo->get(id);
    BOOST_REQUIRE(rec);
    auto params = rec->parameters;
    params[group + "_count"] = int64_t{count};
    auto applied = apply_parameters(rec->spec, params, template_limits{});
    BOOST_REQUIRE(std::holds_alternative<template_spec>(applied));
    std::promise<caf::expected<deployment_record>> answer;
    engine->update(
      id, actors::deployment_change{type, params, std::get<template_spec>(std::move(applied)), {}},
      [&](caf::expected<deployment_record> x) { answer.set_value(std::move(x)); });
    auto fut = answer.get_future();
    BOOST_REQUIRE(fut.wait_for(30s) == std::future_status::ready);
    return fut.get();
  }

  deployment_record completed(const uuid& id) {
    auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed}, 60s);
    BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::completed, describe(rec));
    return rec;
  }

  /// Names of the simulator's servers of `group`, with the number of ports bound to each;
  /// checks that each is ACTIVE.
  std::map<std::string, int> servers_of(const std::string& deployment, const std::string& group) {
    std::map<std::string, int> out;
    auto st = sim.state();
    auto prefix = deployment + "-" + group + "-";
    for (const auto& s : st["servers"].GetArray()) {
      auto name = str(s, "name");
      if (name.rfind(prefix, 0) != 0) continue;
      BOOST_TEST(str(s, "status") == "ACTIVE", name);
      int ports = 0;
      for (const auto& p : st["ports"].GetArray())
        if (str(p, "device_id") == str(s, "id")) ++ports;
      out[name] = ports;
    }
    return out;
  }

  /// Volumes in the simulator, by name, with their status.
  std::map<std::string, std::string> volumes() {
    std::map<std::string, std::string> out;
    auto st = sim.state();
    for (const auto& v : st["volumes"].GetArray()) out[str(v, "name")] = str(v, "status");
    return out;
  }

  /// Ports no server and no router uses.
  int unbound_ports() {
    int n = 0;
    auto st = sim.state();
    for (const auto& p : st["ports"].GetArray())
      if (str(p, "device_id").empty()) ++n;
    return n;
  }
};

using ports_by_server = std::map<std::string, int>;

} // namespace

BOOST_FIXTURE_TEST_SUITE(scale_on_sim, scale_fixture)

BOOST_AUTO_TEST_CASE(web_scales_2_to_4_to_1_and_app_in_with_its_volumes) {
  auto id = create_deployment("sc");
  engine->start(id);
  completed(id);
  BOOST_TEST(servers_of("sc", "web") == (ports_by_server{{"sc-web-1", 1}, {"sc-web-2", 1}}));

  auto accepted = change_count(id, operation_type::scale, "web", 4);
  BOOST_REQUIRE(accepted);
  BOOST_TEST(accepted->status == deployment_status::scaling);
  BOOST_TEST(accepted->generation == 1);
  auto rec = completed(id);
  BOOST_TEST(rec.operation->type == operation_type::scale);
  BOOST_TEST(
    servers_of("sc", "web")
    == (ports_by_server{{"sc-web-1", 1}, {"sc-web-2", 1}, {"sc-web-3", 1}, {"sc-web-4", 1}}));

  BOOST_REQUIRE(change_count(id, operation_type::scale, "web", 1));
  completed(id);
  BOOST_TEST(servers_of("sc", "web") == (ports_by_server{{"sc-web-1", 1}}));

  BOOST_REQUIRE(change_count(id, operation_type::update, "app", 1));
  rec = completed(id);
  BOOST_TEST(rec.operation->type == operation_type::update);
  BOOST_TEST(servers_of("sc", "app") == (ports_by_server{{"sc-app-1", 1}}));
  BOOST_TEST(volumes() == (std::map<std::string, std::string>{{"sc-app-1-vol1", "in-use"}}));
  BOOST_TEST(unbound_ports() == 0);
  BOOST_TEST(rec.resources.vms.size() == 3u); // web-1, app-1, db-1

  // Out again: new names past every index used before, each with its volume.
  BOOST_REQUIRE(change_count(id, operation_type::scale, "app", 2));
  completed(id);
  BOOST_TEST(servers_of("sc", "app") == (ports_by_server{{"sc-app-1", 1}, {"sc-app-4", 1}}));
  BOOST_TEST(volumes()
             == (std::map<std::string, std::string>{{"sc-app-1-vol1", "in-use"},
                                                    {"sc-app-4-vol1", "in-use"}}));

  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_CASE(a_busy_deployment_refuses_a_change_naming_the_operation) {
  auto id = create_deployment("busy");
  engine->start(id);
  wait_for(id, {deployment_status::in_progress});
  auto refused = change_count(id, operation_type::scale, "web", 3);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(is(refused.error(), errc::conflict));
  BOOST_TEST(error_detail(refused.error()).find("deploy") != std::string::npos);
  completed(id);
  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_CASE(delete_during_a_scale_out_leaves_nothing) {
  auto id = create_deployment("cut");
  engine->start(id);
  completed(id);
  BOOST_REQUIRE(change_count(id, operation_type::scale, "app", 8));
  // Delete once the first new VM is recorded: creates, waits and attaches are in flight.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto rec = repo->get(id);
    BOOST_REQUIRE(rec);
    if (rec->resources.vms.size() > 6u) break;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "no new VM recorded");
    std::this_thread::sleep_for(10ms);
  }
  remove(id);
  auto rec = wait_for(id, {deployment_status::deleted, deployment_status::failed}, 60s);
  BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::deleted, describe(rec));
  check_cloud_is_empty();
}

// A crash between a server's end and its port's delete leaves the server recorded, its port
// unbound and tagged. The retried delete finds the server gone (404) and nothing bound to it:
// only the tags still name the port, and the scale-in must remove it all the same.
BOOST_AUTO_TEST_CASE(a_scale_in_removes_the_port_of_a_server_already_gone) {
  auto id = create_deployment("gone");
  engine->start(id);
  auto rec = completed(id);
  std::string web2;
  for (const auto& vm : rec.resources.vms)
    if (vm.name == "gone-web-2") web2 = vm.id;
  BOOST_REQUIRE(!web2.empty());

  openstack::testing::client_env env{sim, openstack::testing::client_env::default_config(sim)};
  auto deleted = env.await<openstack::done>([&](auto cb) { env.os->delete_server(web2, cb); });
  BOOST_REQUIRE(deleted);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (servers_of("gone", "web").count("gone-web-2") > 0) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "web-2 not deleted");
    std::this_thread::sleep_for(20ms);
  }
  BOOST_REQUIRE(unbound_ports() == 1);

  BOOST_REQUIRE(change_count(id, operation_type::scale, "web", 1));
  completed(id);
  BOOST_TEST(servers_of("gone", "web") == (ports_by_server{{"gone-web-1", 1}}));
  BOOST_TEST(unbound_ports() == 0);

  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_SUITE_END()
