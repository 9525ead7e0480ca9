#include "orch/deployment/model.hpp"

#include <string>
#include <variant>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fsm_driver.hpp"

using namespace orch;

namespace {

template_spec desired(const deployment_parameters& params) {
  auto res = apply_parameters(testing::three_tier(), params, {});
  BOOST_REQUIRE(std::holds_alternative<template_spec>(res));
  return std::get<template_spec>(res);
}

std::vector<field_error> refused(const deployment_parameters& params) {
  auto res = apply_parameters(testing::three_tier(), params, {});
  BOOST_REQUIRE(std::holds_alternative<std::vector<field_error>>(res));
  return std::get<std::vector<field_error>>(res);
}

} // namespace

BOOST_AUTO_TEST_SUITE(model)

BOOST_AUTO_TEST_CASE(every_status_round_trips_through_its_api_name) {
  for (int i = 0; i <= static_cast<int>(deployment_status::deleted); ++i) {
    auto x = static_cast<deployment_status>(i);
    BOOST_TEST((parse_deployment_status(to_string(x)) == x));
  }
  BOOST_TEST(to_string(deployment_status::in_progress) == "IN_PROGRESS");
  BOOST_TEST(!parse_deployment_status("in_progress").has_value());
  BOOST_TEST(to_string(operation_type::remove) == "delete");
  BOOST_TEST((parse_operation_type("delete") == operation_type::remove));
  BOOST_TEST((parse_operation_status("cancelled") == operation_status::cancelled));
  BOOST_TEST((parse_resource_kind("volume_attachment") == resource_kind::volume_attachment));
  BOOST_TEST(!parse_resource_kind("port").has_value());
}

BOOST_AUTO_TEST_CASE(only_running_statuses_are_busy) {
  BOOST_TEST(is_busy(deployment_status::in_progress));
  BOOST_TEST(is_busy(deployment_status::deleting));
  BOOST_TEST(!is_busy(deployment_status::completed));
  BOOST_TEST(!is_busy(deployment_status::failed));
  BOOST_TEST(!is_busy(deployment_status::deleted));
}

BOOST_AUTO_TEST_CASE(parameters_override_count_flavor_and_image) {
  auto spec = desired({{"web_count", int64_t{4}},
                       {"db_flavor", std::string{"m1.xlarge"}},
                       {"app_image", std::string{"debian-12"}}});
  BOOST_TEST(spec.vm_config[0].second.count == 4);
  BOOST_TEST(spec.vm_config[1].second.image == "debian-12");
  BOOST_TEST(spec.vm_config[2].second.flavor == "m1.xlarge");
  BOOST_TEST(spec.vm_config[2].second.count == 1);
}

BOOST_AUTO_TEST_CASE(group_names_with_underscores_take_the_last_underscore) {
  auto base = testing::three_tier();
  base.vm_config[0].first = "web_tier";
  auto res = apply_parameters(base, {{"web_tier_count", int64_t{0}}}, {});
  BOOST_REQUIRE(std::holds_alternative<template_spec>(res));
  BOOST_TEST(std::get<template_spec>(res).vm_config[0].second.count == 0);
}

BOOST_AUTO_TEST_CASE(bad_parameters_are_each_reported) {
  auto errors = refused({{"cache_count", int64_t{1}},
                         {"web_size", int64_t{1}},
                         {"web_count", std::string{"two"}},
                         {"app_count", int64_t{0}},
                         {"db_flavor", std::string{}},
                         {"nounderscore", int64_t{1}},
                         {"db_count", int64_t{1001}}});
  BOOST_TEST(errors.size() == 7u);
  BOOST_TEST(
    (errors[0] == field_error{"parameters.app_count", "must not be below the group's min_count"}));
  BOOST_TEST(errors[1].field == "parameters.cache_count");
  BOOST_TEST(errors[1].message == "unknown parameter");
}

BOOST_AUTO_TEST_CASE(a_flavor_or_image_parameter_is_at_most_255_characters) {
  BOOST_TEST(desired({{"web_flavor", std::string(255, 'f')}}).vm_config[0].second.flavor.size()
             == 255u);
  auto errors = refused({{"web_image", std::string(256, 'i')}});
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].field == "parameters.web_image");
  BOOST_TEST(errors[0].message == "must be at most 255 characters");
}

BOOST_AUTO_TEST_CASE(the_resolved_template_must_fit_the_size_limits) {
  auto base = testing::three_tier();
  template_limits limits;
  limits.max_vms = 10;
  int before = 0;
  for (const auto& [name, group] : base.vm_config) before += group.count;
  BOOST_REQUIRE(before <= 10);
  // Fits as stored; a parameter multiplies one group past the total.
  BOOST_TEST(std::holds_alternative<template_spec>(apply_parameters(base, {}, limits)));
  auto res = apply_parameters(base, {{"web_count", int64_t{20}}}, limits);
  BOOST_REQUIRE(std::holds_alternative<std::vector<field_error>>(res));
  auto errors = std::get<std::vector<field_error>>(res);
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].field == "template.vm_config");
  BOOST_TEST(errors[0].message.find("at most 10") != std::string::npos, errors[0].message);
  // Too many groups, whatever the counts.
  limits = template_limits{2, 1000};
  res = apply_parameters(base, {}, limits);
  BOOST_REQUIRE(std::holds_alternative<std::vector<field_error>>(res));
  BOOST_TEST(std::get<std::vector<field_error>>(res)[0].message
             == "has 3 VM groups; at most 2 are allowed");
}

BOOST_AUTO_TEST_CASE(cloud_names_are_deterministic) {
  BOOST_TEST(network_name("my-app") == "my-app-net");
  BOOST_TEST(subnet_name("my-app", "web") == "my-app-web");
  BOOST_TEST(router_name("my-app") == "my-app-router");
  BOOST_TEST(vm_name("my-app", "web", 2) == "my-app-web-2");
  BOOST_TEST(volume_name(vm_name("my-app", "app", 1), 2) == "my-app-app-1-vol2");
  BOOST_TEST(logical_name(resource_kind::server, "web-1") == "vm:web-1");
  BOOST_TEST(logical_name(resource_kind::network) == "network");
}

BOOST_AUTO_TEST_CASE(ownership_marks_name_the_deployment_and_the_resource) {
  auto id = *uuid::parse("6f1c2a3b-0000-4000-8000-000000000001");
  BOOST_TEST(ownership_tags(id, "vm:web-1")
             == (std::vector<std::string>{"orch-deployment=6f1c2a3b-0000-4000-8000-000000000001",
                                          "orch-resource=vm:web-1"}));
  auto meta = ownership_metadata(id, "volume:app-1-vol1");
  BOOST_TEST(meta.at("orch-resource") == "volume:app-1-vol1");
  BOOST_TEST(meta.at("orch-deployment") == to_string(id));
  auto marked = ownership_tags(id, "vm:web-1", "inst-a");
  BOOST_TEST(marked.size() == 3u);
  BOOST_TEST(marked.back() == "orch-installation=inst-a");
  BOOST_TEST(identity_tags(marked) == ownership_tags(id, "vm:web-1"));
  auto marked_meta = ownership_metadata(id, "volume:app-1-vol1", "inst-a");
  BOOST_TEST(marked_meta.at("orch-installation") == "inst-a");
  BOOST_TEST((identity_metadata(marked_meta) == ownership_metadata(id, "volume:app-1-vol1")));
}

BOOST_AUTO_TEST_CASE(a_group_goes_on_its_own_subnet_else_on_the_first) {
  auto spec = testing::three_tier();
  BOOST_TEST(subnet_of_group(spec, "app") == "app");
  spec.network_config.subnets = {{"front", "10.0.1.0/24"}, {"db", "10.0.3.0/24"}};
  BOOST_TEST(subnet_of_group(spec, "app") == "front");
  BOOST_TEST(subnet_of_group(spec, "db") == "db");
  spec.network_config.subnets.clear();
  BOOST_TEST(subnet_of_group(spec, "db").empty());
}

BOOST_AUTO_TEST_SUITE_END()
