#include "orch/deployment/model.hpp"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fsm_driver.hpp"

using namespace orch;
using orch::testing::pending_record;
using orch::testing::three_tier;
using orch::testing::tick;

namespace {

template_spec with_group(template_spec spec, const std::string& group, int count,
                         std::string flavor = {}, std::string image = {}) {
  for (auto& [name, g] : spec.vm_config)
    if (name == group) {
      g.count = count;
      if (!flavor.empty()) g.flavor = std::move(flavor);
      if (!image.empty()) g.image = std::move(image);
    }
  return spec;
}

// A COMPLETED deployment of `spec` as a full deploy records it.
deployment_record deployed(template_spec spec = three_tier()) {
  testing::fsm_driver drv{pending_record(std::move(spec))};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  BOOST_REQUIRE(drv.uut.state().status == deployment_status::completed);
  return drv.uut.state();
}

std::vector<std::string> describe(const std::vector<planned_change>& changes) {
  std::vector<std::string> out;
  for (const auto& x : changes) {
    auto line = to_string(x.action) + " " + x.cloud_name;
    if (!x.from.empty() || !x.to.empty()) line += " " + x.from + "->" + x.to;
    out.push_back(std::move(line));
  }
  return out;
}

using lines = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(plan)

BOOST_AUTO_TEST_CASE(vm_suffixes_split_at_the_last_dash) {
  BOOST_TEST((parse_vm_suffix("web-3") == std::pair<std::string, int>{"web", 3}));
  BOOST_TEST((parse_vm_suffix("my-web-12") == std::pair<std::string, int>{"my-web", 12}));
  BOOST_TEST(!parse_vm_suffix("web").has_value());
  BOOST_TEST(!parse_vm_suffix("web-0").has_value());
  BOOST_TEST(!parse_vm_suffix("web-x").has_value());
  BOOST_TEST(!parse_vm_suffix("-3").has_value());
  BOOST_TEST((parse_volume_suffix("app-2-vol1") == std::pair<std::string, int>{"app-2", 1}));
  BOOST_TEST((parse_volume_suffix("x-vol1-2-vol3") == std::pair<std::string, int>{"x-vol1-2", 3}));
  BOOST_TEST(!parse_volume_suffix("app-2").has_value());
  BOOST_TEST(!parse_volume_suffix("app-2-vol").has_value());
}

BOOST_AUTO_TEST_CASE(a_new_deployment_plans_every_server_and_volume) {
  auto rec = pending_record();
  BOOST_TEST(
    describe(plan_changes(rec))
    == (lines{"create my-app-web-1", "create my-app-web-2", "create my-app-app-1",
              "create my-app-app-2", "create my-app-app-3", "create my-app-db-1",
              "create my-app-app-1-vol1", "create my-app-app-2-vol1", "create my-app-app-3-vol1"}));
}

BOOST_AUTO_TEST_CASE(a_deployment_that_matches_its_spec_plans_nothing) {
  BOOST_TEST(plan_changes(deployed()).empty());
}

BOOST_AUTO_TEST_CASE(count_up_numbers_new_vms_past_the_existing_ones) {
  auto rec = deployed();
  rec.spec = with_group(rec.spec, "web", 4);
  BOOST_TEST(describe(plan_changes(rec)) == (lines{"create my-app-web-3", "create my-app-web-4"}));
}

BOOST_AUTO_TEST_CASE(count_down_removes_the_highest_indexes_volumes_first) {
  auto rec = deployed();
  rec.spec = with_group(rec.spec, "app", 1);
  BOOST_TEST(describe(plan_changes(rec))
             == (lines{"delete my-app-app-3-vol1", "delete my-app-app-3",
                       "delete my-app-app-2-vol1", "delete my-app-app-2"}));
}

BOOST_AUTO_TEST_CASE(indexes_are_never_reused_after_a_scale_in) {
  auto rec = deployed();
  // web-2 was removed by an earlier scale-in; the high-water mark remembers it.
  std::erase_if(rec.resources.vms, [](const vm_record& vm) { return vm.name == "my-app-web-2"; });
  BOOST_TEST(rec.vm_high_water.at("web") == 2);
  rec.spec = with_group(rec.spec, "web", 3);
  BOOST_TEST(describe(plan_changes(rec)) == (lines{"create my-app-web-3", "create my-app-web-4"}));
  auto vms = desired_vms(rec);
  BOOST_TEST(vms.size() == 7u);
  BOOST_TEST((vms[0] == desired_vm{"web", 1}));
  BOOST_TEST((vms[1] == desired_vm{"web", 3}));
  BOOST_TEST((vms[2] == desired_vm{"web", 4}));
}

BOOST_AUTO_TEST_CASE(flavor_and_image_changes_resize_and_rebuild_each_vm_of_the_group) {
  auto rec = deployed();
  rec.spec = with_group(rec.spec, "web", 2, "m1.large", "debian-12");
  BOOST_TEST(describe(plan_changes(rec))
             == (lines{"resize my-app-web-1 m1.small->m1.large",
                       "rebuild my-app-web-1 ubuntu-22.04->debian-12",
                       "resize my-app-web-2 m1.small->m1.large",
                       "rebuild my-app-web-2 ubuntu-22.04->debian-12"}));
}

BOOST_AUTO_TEST_CASE(count_and_flavor_changes_together_resize_only_the_vms_kept) {
  auto rec = deployed();
  rec.spec = with_group(rec.spec, "web", 1, "m1.large");
  BOOST_TEST(describe(plan_changes(rec))
             == (lines{"delete my-app-web-2", "resize my-app-web-1 m1.small->m1.large"}));
}

BOOST_AUTO_TEST_CASE(min_count_bounds_the_count_parameter) {
  auto rec = deployed();
  auto applied = apply_parameters(rec.spec, {{"app_count", int64_t{0}}}, template_limits{});
  auto* errors = std::get_if<std::vector<field_error>>(&applied);
  BOOST_REQUIRE(errors != nullptr);
  BOOST_TEST(errors->front().field == "parameters.app_count");
  auto ok = apply_parameters(rec.spec, {{"app_count", int64_t{1}}}, template_limits{});
  BOOST_TEST(std::holds_alternative<template_spec>(ok));
}

BOOST_AUTO_TEST_CASE(after_a_partial_failure_open_intents_count_as_vms_the_deployment_has) {
  testing::fsm_driver drv{pending_record()};
  drv.fail_at = 14; // somewhere among the server creates
  drv.feed(start_deploy{tick(0)});
  drv.run();
  auto rec = drv.uut.state();
  BOOST_REQUIRE(rec.status == deployment_status::failed);
  // Whatever exists or may exist keeps its name; only what is missing is created.
  auto changes = plan_changes(rec);
  auto vms = desired_vms(rec);
  BOOST_TEST(vms.size() == 6u);
  for (const auto& vm : vms) BOOST_TEST(vm.index <= 3);
  for (const auto& x : changes) BOOST_TEST((x.action == change_action::create));
  // Scaling web down to 0 deletes what exists of it, recorded or announced.
  rec.spec.vm_config.front().second.min_count = 0;
  rec.spec = with_group(rec.spec, "web", 0);
  for (const auto& x : plan_changes(rec))
    if (x.group == "web") BOOST_TEST((x.action == change_action::remove));
}

BOOST_AUTO_TEST_CASE(a_deleting_deployment_desires_nothing) {
  auto rec = deployed();
  rec.status = deployment_status::deleting;
  BOOST_TEST(desired_vms(rec).empty());
  auto changes = plan_changes(rec);
  BOOST_TEST(changes.size() == 9u);
  for (const auto& x : changes) BOOST_TEST((x.action == change_action::remove));
}

BOOST_AUTO_TEST_SUITE_END()
