#include "orch/template_validation.hpp"

#include <algorithm>

#include <boost/test/unit_test.hpp>

namespace {

/// The example of API.md, "Templates".
orch::template_spec example() {
  orch::template_spec spec;
  spec.name = "web-app-stack";
  spec.description = "3-tier web application";
  spec.vm_config.emplace_back("web", orch::vm_group_spec{"m1.small", "ubuntu-22.04", 2, {}, {}});
  spec.vm_config.emplace_back(
    "app", orch::vm_group_spec{"m1.medium", "ubuntu-22.04", 3, 1, {orch::volume_spec{20, ""}}});
  spec.vm_config.emplace_back("db", orch::vm_group_spec{"m1.large", "ubuntu-22.04", 1, {}, {}});
  spec.network_config.cidr = "10.0.0.0/16";
  spec.network_config.subnets
    = {{"web", "10.0.1.0/24"}, {"app", "10.0.2.0/24"}, {"db", "10.0.3.0/24"}};
  spec.network_config.router = true;
  spec.network_config.external_network = "public";
  return spec;
}

std::vector<std::string> fields(const std::vector<orch::field_error>& errors) {
  std::vector<std::string> result;
  for (const auto& e : errors) result.push_back(e.field);
  return result;
}

std::string message_of(const std::vector<orch::field_error>& errors, std::string_view field) {
  auto i = std::find_if(errors.begin(), errors.end(),
                        [&](const orch::field_error& e) { return e.field == field; });
  return i == errors.end() ? std::string{"<no error for this field>"} : i->message;
}

using strings = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(template_validation)

BOOST_AUTO_TEST_CASE(the_api_example_is_valid) {
  auto errors = orch::validate_template(example());
  BOOST_TEST(errors.empty());
}

BOOST_AUTO_TEST_CASE(the_size_limits_bound_groups_and_total_vms) {
  auto spec = example(); // 3 groups, 6 VMs
  BOOST_TEST(orch::validate_template(spec, {3, 6}).empty());
  auto errors = orch::validate_template(spec, {2, 5});
  BOOST_TEST(fields(errors) == (strings{"vm_config", "vm_config"}));
  BOOST_TEST(errors[0].message == "has 3 VM groups; at most 2 are allowed");
  BOOST_TEST(errors[1].message == "asks for 6 VMs in total; at most 5 are allowed");
  // The defaults: 50 groups, 1000 VMs.
  spec.vm_config.clear();
  for (int i = 0; i < 51; ++i)
    spec.vm_config.emplace_back("g" + std::to_string(i), orch::vm_group_spec{"f", "i", 20, {}, {}});
  BOOST_TEST(message_of(orch::validate_template(spec), "vm_config")
             == "has 51 VM groups; at most 50 are allowed");
  BOOST_TEST(orch::check_template_size(spec, {}, "template.vm_config").size() == 2u);
}

BOOST_AUTO_TEST_CASE(group_names_follow_the_rule) {
  BOOST_TEST(orch::is_valid_group_name("web"));
  BOOST_TEST(orch::is_valid_group_name("a"));
  BOOST_TEST(orch::is_valid_group_name("web_2-x"));
  BOOST_TEST(orch::is_valid_group_name(std::string(32, 'a')));
  BOOST_TEST(!orch::is_valid_group_name(std::string(33, 'a')));
  BOOST_TEST(!orch::is_valid_group_name(""));
  BOOST_TEST(!orch::is_valid_group_name("Web"));
  BOOST_TEST(!orch::is_valid_group_name("1web"));
  BOOST_TEST(!orch::is_valid_group_name("_web"));
  BOOST_TEST(!orch::is_valid_group_name("we b"));
  BOOST_TEST(!orch::is_valid_group_name("web.1"));
}

BOOST_AUTO_TEST_CASE(template_names_follow_the_rule) {
  BOOST_TEST(orch::is_valid_template_name("Web-App.Stack_1"));
  BOOST_TEST(orch::is_valid_template_name("9"));
  BOOST_TEST(orch::is_valid_template_name(std::string(63, 'x')));
  BOOST_TEST(!orch::is_valid_template_name(std::string(64, 'x')));
  BOOST_TEST(!orch::is_valid_template_name(""));
  BOOST_TEST(!orch::is_valid_template_name("-web"));
  BOOST_TEST(!orch::is_valid_template_name(".web"));
  BOOST_TEST(!orch::is_valid_template_name("web stack"));
  BOOST_TEST(!orch::is_valid_template_name("web/stack"));
}

BOOST_AUTO_TEST_CASE(a_bad_template_name_is_reported_on_name) {
  auto spec = example();
  spec.name = "bad name";
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == strings{"name"});
}

BOOST_AUTO_TEST_CASE(at_least_one_vm_group_is_required) {
  auto spec = example();
  spec.vm_config.clear();
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == strings{"vm_config"});
  BOOST_TEST(errors[0].message == "must define at least one VM group");
}

BOOST_AUTO_TEST_CASE(count_bounds_are_inclusive) {
  auto spec = example();
  spec.vm_config[0].second.count = 0;
  spec.vm_config[1].second.count = 1000;
  BOOST_TEST(orch::validate_template(spec, {50, 1001}).empty());
  spec.vm_config[0].second.count = -1;
  spec.vm_config[1].second.count = 1001;
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == (strings{"vm_config.web.count", "vm_config.app.count"}));
  BOOST_TEST(errors[0].message == "must be an integer 0..1000");
}

BOOST_AUTO_TEST_CASE(min_count_must_not_exceed_count) {
  auto spec = example();
  spec.vm_config[1].second.min_count = 3;
  BOOST_TEST(orch::validate_template(spec).empty());
  spec.vm_config[1].second.min_count = 4;
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == strings{"vm_config.app.min_count"});
  BOOST_TEST(errors[0].message == "must be <= count (3)");
  spec.vm_config[1].second.min_count = -1;
  BOOST_TEST(message_of(orch::validate_template(spec), "vm_config.app.min_count")
             == "must be an integer >= 0");
}

BOOST_AUTO_TEST_CASE(min_count_is_bounded_even_when_count_is_invalid) {
  auto spec = example();
  spec.vm_config[1].second.count = 5000;
  spec.vm_config[1].second.min_count = 2000;
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == (strings{"vm_config.app.count", "vm_config.app.min_count"}));
  spec.vm_config[1].second.min_count = 2;
  BOOST_TEST(fields(orch::validate_template(spec)) == strings{"vm_config.app.count"});
}

BOOST_AUTO_TEST_CASE(volume_sizes_are_bounded) {
  auto spec = example();
  auto& volumes = spec.vm_config[1].second.volumes;
  volumes = {{1, ""}, {16384, "ssd"}};
  BOOST_TEST(orch::validate_template(spec).empty());
  volumes = {{0, ""}, {20, ""}, {16385, ""}};
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors)
             == (strings{"vm_config.app.volumes.0.size_gb", "vm_config.app.volumes.2.size_gb"}));
  BOOST_TEST(errors[0].message == "must be an integer 1..16384");
}

BOOST_AUTO_TEST_CASE(flavor_and_image_must_not_be_empty) {
  auto spec = example();
  spec.vm_config[2].second.flavor.clear();
  spec.vm_config[2].second.image.clear();
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == (strings{"vm_config.db.flavor", "vm_config.db.image"}));
  BOOST_TEST(errors[0].message == "must not be empty");
}

BOOST_AUTO_TEST_CASE(bad_and_duplicate_group_names_are_reported) {
  auto spec = example();
  spec.vm_config[0].first = "Web";
  spec.vm_config[2].first = "app";
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == (strings{"vm_config.Web", "vm_config.app"}));
  BOOST_TEST(errors[0].message.find("group name must match") == 0u);
  BOOST_TEST(errors[1].message == "duplicate group name");
}

BOOST_AUTO_TEST_CASE(the_network_cidr_must_be_valid) {
  auto spec = example();
  spec.network_config.cidr = "10.0.0.1/16";
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == strings{"network_config.cidr"});
  BOOST_TEST(errors[0].message == "host bits set, did you mean 10.0.0.0/16");
}

BOOST_AUTO_TEST_CASE(subnets_are_checked_even_when_the_network_is_invalid) {
  auto spec = example();
  spec.network_config.cidr = "nonsense";
  spec.network_config.subnets[1].second = "10.0.2.0/33";
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == (strings{"network_config.cidr", "network_config.subnets.app"}));
}

BOOST_AUTO_TEST_CASE(subnets_must_lie_inside_the_network) {
  auto spec = example();
  spec.network_config.subnets[2].second = "10.1.3.0/24";
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == strings{"network_config.subnets.db"});
  BOOST_TEST(errors[0].message == "must lie inside network_config.cidr 10.0.0.0/16");
}

BOOST_AUTO_TEST_CASE(subnets_must_share_the_network_family) {
  auto spec = example();
  spec.network_config.subnets[2].second = "fd00::/64";
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == strings{"network_config.subnets.db"});
  BOOST_TEST(errors[0].message == "is IPv6 but network_config.cidr is IPv4");
}

BOOST_AUTO_TEST_CASE(overlapping_subnets_are_reported_on_both_names) {
  auto spec = example();
  spec.network_config.subnets[2].second = "10.0.0.0/22";
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors)
             == (strings{"network_config.subnets.web", "network_config.subnets.db",
                         "network_config.subnets.app", "network_config.subnets.db"}));
  BOOST_TEST(errors[0].message == "overlaps subnet db");
  BOOST_TEST(errors[1].message == "overlaps subnet web");
  BOOST_TEST(errors[3].message == "overlaps subnet app");
}

BOOST_AUTO_TEST_CASE(subnet_names_follow_the_group_name_rule) {
  auto spec = example();
  spec.network_config.subnets[0].first = "Web Tier";
  spec.network_config.subnets.emplace_back("app", "10.0.4.0/24");
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors)
             == (strings{"network_config.subnets.Web Tier", "network_config.subnets.app"}));
  BOOST_TEST(errors[0].message.find("subnet name must match") == 0u);
  BOOST_TEST(errors[1].message == "duplicate subnet name");
}

BOOST_AUTO_TEST_CASE(an_external_network_requires_a_router) {
  auto spec = example();
  spec.network_config.router = false;
  auto errors = orch::validate_template(spec);
  BOOST_TEST(fields(errors) == strings{"network_config.external_network"});
  spec.network_config.external_network.clear();
  BOOST_TEST(orch::validate_template(spec).empty());
}

BOOST_AUTO_TEST_CASE(ipv6_networks_are_valid) {
  auto spec = example();
  spec.network_config.cidr = "fd00::/48";
  spec.network_config.subnets = {{"web", "fd00:0:0:1::/64"}, {"app", "fd00:0:0:2::/64"}};
  BOOST_TEST(orch::validate_template(spec).empty());
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  auto spec = example();
  spec.name = "";
  spec.vm_config[0].second.count = 1001;
  spec.vm_config[1].second.flavor.clear();
  spec.network_config.subnets[0].second = "10.0.1.1/24";
  spec.network_config.subnets[2].second = "10.2.0.0/24";
  spec.network_config.router = false;
  auto errors = orch::validate_template(spec);
  BOOST_TEST(
    fields(errors)
    == (strings{"name", "vm_config.web.count", "vm_config.app.flavor", "network_config.subnets.web",
                "network_config.subnets.db", "network_config.external_network"}));
}

BOOST_AUTO_TEST_SUITE_END()
