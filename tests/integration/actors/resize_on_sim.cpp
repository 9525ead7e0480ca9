#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "node_fixture.hpp"

using namespace orch;
using namespace std::chrono_literals;
using orch::testing::node_fixture;

namespace {

struct resize_fixture : node_fixture {
  /// Hands a parameter change to the engine, as `PATCH /deployments/{id}` does.
  caf::expected<deployment_record> change(const uuid& id, const deployment_parameters& changes) {
    auto rec = repo->get(id);
    BOOST_REQUIRE(rec);
    auto params = rec->parameters;
    for (const auto& [name, value] : changes) params[name] = value;
    auto applied = apply_parameters(rec->spec, params, template_limits{});
    BOOST_REQUIRE(std::holds_alternative<template_spec>(applied));
    std::promise<caf::expected<deployment_record>> answer;
    engine->update(
      id,
      actors::deployment_change{
        operation_type::update, params, std::get<template_spec>(std::move(applied)), {}},
      [&](caf::expected<deployment_record> x) { answer.set_value(std::move(x)); });
    auto fut = answer.get_future();
    BOOST_REQUIRE(fut.wait_for(30s) == std::future_status::ready);
    return fut.get();
  }

  deployment_record settled(const uuid& id) {
    return wait_for(id, {deployment_status::completed, deployment_status::failed}, 60s);
  }

  deployment_record completed(const uuid& id) {
    auto rec = settled(id);
    BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::completed, describe(rec));
    return rec;
  }

  /// `<object>.<field>` of each of the simulator's servers of `group` as its Nova API shows
  /// them (2.90: `flavor.original_name`, `image.id`), by name; checks that each is ACTIVE.
  std::map<std::string, std::string> servers_of(const std::string& deployment,
                                                const std::string& group, const char* object,
                                                const char* field) {
    std::map<std::string, std::string> out;
    auto st = sim.state();
    auto prefix = deployment + "-" + group + "-";
    for (const auto& s : st["servers"].GetArray()) {
      auto name = str(s, "name");
      if (name.rfind(prefix, 0) != 0) continue;
      BOOST_TEST(str(s, "status") == "ACTIVE", name);
      BOOST_REQUIRE(s.HasMember(object) && s[object].IsObject());
      out[name] = str(s[object], field);
    }
    return out;
  }

  std::map<std::string, std::string> flavors_of(const std::string& deployment,
                                                const std::string& group) {
    return servers_of(deployment, group, "flavor", "original_name");
  }

  std::map<std::string, std::string> images_of(const std::string& deployment,
                                               const std::string& group) {
    return servers_of(deployment, group, "image", "id");
  }

  /// The flavor the record gives each VM of `group`; checks that each is ACTIVE.
  static std::map<std::string, std::string> recorded_flavors(const deployment_record& rec,
                                                             const std::string& group) {
    std::map<std::string, std::string> out;
    for (const auto& vm : rec.resources.vms)
      if (vm.group == group) {
        BOOST_TEST(vm.status == "ACTIVE", vm.name);
        out[vm.name] = vm.flavor;
      }
    return out;
  }

  /// Waits until no VM of the deployment is recorded in the middle of a change: a failed
  /// operation still records the answers of the steps that were out.
  deployment_record quiet(const uuid& id) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      auto rec = repo->get(id);
      BOOST_REQUIRE(rec);
      if (std::all_of(rec->resources.vms.begin(), rec->resources.vms.end(),
                      [](const auto& vm) { return vm.status == "ACTIVE"; }))
        return *rec;
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "a change never ended");
      std::this_thread::sleep_for(50ms);
    }
  }

  int64_t server_actions() { return sim.calls("POST", "/compute/v2.1/servers/{id}/action"); }
};

using by_name = std::map<std::string, std::string>;

} // namespace

BOOST_FIXTURE_TEST_SUITE(resize_on_sim, resize_fixture)

BOOST_AUTO_TEST_CASE(flavor_and_image_changes_resize_and_rebuild_every_vm_of_the_group) {
  auto id = create_deployment("rs");
  engine->start(id);
  completed(id);
  BOOST_TEST(flavors_of("rs", "web")
             == (by_name{{"rs-web-1", "m1.small"}, {"rs-web-2", "m1.small"}}));
  auto images = images_of("rs", "db");

  sim.reset_calls();
  auto accepted = change(id, {{"web_flavor", std::string{"m1.medium"}}});
  BOOST_REQUIRE(accepted);
  BOOST_TEST(accepted->status == deployment_status::updating);
  auto rec = completed(id);
  BOOST_TEST(rec.operation->type == operation_type::update);
  BOOST_TEST(flavors_of("rs", "web")
             == (by_name{{"rs-web-1", "m1.medium"}, {"rs-web-2", "m1.medium"}}));
  BOOST_TEST(recorded_flavors(rec, "web") == flavors_of("rs", "web"));
  BOOST_TEST(flavors_of("rs", "db") == (by_name{{"rs-db-1", "m1.large"}}));
  BOOST_TEST(server_actions() == 4); // one resize and one confirm per VM, nothing twice
  BOOST_TEST(plan_changes(rec).empty());

  sim.reset_calls();
  BOOST_REQUIRE(change(id, {{"web_image", std::string{"cirros"}}}));
  rec = completed(id);
  auto rebuilt = images_of("rs", "web");
  BOOST_REQUIRE_EQUAL(rebuilt.size(), 2u);
  for (const auto& [name, image] : rebuilt) BOOST_TEST(image != images.at("rs-db-1"), name);
  BOOST_TEST(rebuilt.at("rs-web-1") == rebuilt.at("rs-web-2"));
  BOOST_TEST(images_of("rs", "db") == images);
  for (const auto& vm : rec.resources.vms)
    BOOST_TEST(vm.image == (vm.group == "web" ? "cirros" : "ubuntu-22.04"), vm.name);
  BOOST_TEST(server_actions() == 2);

  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_CASE(a_refused_confirm_is_reverted_the_record_stays_accurate_and_a_retry_works) {
  auto id = create_deployment("rv");
  engine->start(id);
  completed(id);
  // The third server action is the first confirm: both resizes go out before either server
  // reaches VERIFY_RESIZE.
  sim.add_fault(R"({"route": "/compute/v2.1/servers/{id}/action", "method": "POST",
                    "status": 409, "nth": 3, "count": 1})");
  BOOST_REQUIRE(change(id, {{"web_flavor", std::string{"m1.medium"}}}));
  auto rec = settled(id);
  BOOST_REQUIRE(rec.status == deployment_status::failed);
  BOOST_REQUIRE(rec.operation->error);
  BOOST_TEST(rec.operation->error->code == "conflict");
  BOOST_TEST(rec.operation->error->message.find("resize reverted") != std::string::npos);
  rec = quiet(id);
  // One VM went back to its old flavor, the other kept the new one, and the record says so.
  auto flavors = flavors_of("rv", "web");
  BOOST_TEST(std::count_if(flavors.begin(), flavors.end(),
                           [](const auto& x) { return x.second == "m1.small"; })
             == 1);
  BOOST_TEST(recorded_flavors(rec, "web") == flavors);

  sim.clear_faults();
  BOOST_REQUIRE(change(id, {{"web_flavor", std::string{"m1.medium"}}}));
  rec = completed(id);
  BOOST_TEST(flavors_of("rv", "web")
             == (by_name{{"rv-web-1", "m1.medium"}, {"rv-web-2", "m1.medium"}}));
  BOOST_TEST(recorded_flavors(rec, "web") == flavors_of("rv", "web"));

  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_CASE(node_restart_mid_resize_finishes_it_without_a_second_resize) {
  auto id = create_deployment("rr");
  engine->start(id);
  completed(id);
  BOOST_REQUIRE(change(id, {{"web_flavor", std::string{"m1.large"}}}));
  // Stop the node as soon as a resize is recorded as sent.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto rec = repo->get(id);
    BOOST_REQUIRE(rec);
    if (std::any_of(rec->resources.vms.begin(), rec->resources.vms.end(),
                    [](const auto& vm) { return vm.status == "RESIZE"; }))
      break;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "no resize recorded");
    std::this_thread::sleep_for(5ms);
  }
  engine.reset();
  sys->await_all_actors_done();
  engine = spawn_engine(true);
  // A second resize of a server in RESIZE or VERIFY_RESIZE is a 409: the operation would fail.
  auto rec = completed(id);
  BOOST_TEST(flavors_of("rr", "web")
             == (by_name{{"rr-web-1", "m1.large"}, {"rr-web-2", "m1.large"}}));
  BOOST_TEST(recorded_flavors(rec, "web") == flavors_of("rr", "web"));

  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_SUITE_END()
