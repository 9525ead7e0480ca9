#include "orch/ansible/inventory.hpp"

#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

using namespace orch;
using namespace orch::ansible;

namespace {

vm_record vm(std::string group, int index, std::vector<std::string> addresses) {
  vm_record x;
  x.group = std::move(group);
  x.index = index;
  x.name = "app-" + x.group + "-" + std::to_string(index);
  x.addresses = std::move(addresses);
  return x;
}

std::vector<std::string> fields(const std::vector<field_error>& errors) {
  std::vector<std::string> result;
  for (const auto& err : errors) result.push_back(err.field);
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(ansible_inventory)

BOOST_AUTO_TEST_CASE(vms_make_one_group_per_vm_group_by_fixed_address) {
  std::vector<vm_record> vms{vm("web", 1, {"10.0.1.10", "172.24.4.5"}), vm("web", 2, {"10.0.1.11"}),
                             vm("db", 1, {"10.0.2.10"}), vm("cache", 1, {})};
  auto inv = inventory_from_vms(vms);
  inventory expected{{"web", {"10.0.1.10", "10.0.1.11"}}, {"db", {"10.0.2.10"}}};
  BOOST_TEST((inv == expected));
}

BOOST_AUTO_TEST_CASE(inventory_json_is_ansible_runner_hosts_format) {
  inventory inv{{"web", {"10.0.1.10", "10.0.1.11"}}, {"db", {"10.0.2.10"}}};
  rapidjson::Document doc;
  doc.Parse(to_inventory_json(inv).c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  const auto& children = doc["all"]["children"];
  BOOST_TEST(children.MemberCount() == 2u);
  BOOST_TEST(children["web"]["hosts"].HasMember("10.0.1.10"));
  BOOST_TEST(children["web"]["hosts"].HasMember("10.0.1.11"));
  BOOST_TEST(children["web"]["hosts"]["10.0.1.10"].IsObject());
  BOOST_TEST(children["db"]["hosts"].MemberCount() == 1u);
}

BOOST_AUTO_TEST_CASE(a_request_inventory_of_the_deployments_addresses_is_valid) {
  std::vector<std::string> allowed{"10.0.1.10", "10.0.1.11", "fd00::5"};
  inventory inv{{"web_servers", {"10.0.1.10", "10.0.1.11"}}, {"v6", {"fd00::5"}}};
  BOOST_TEST(validate_inventory(inv, allowed).empty());
}

BOOST_AUTO_TEST_CASE(bad_group_names_and_hosts_are_reported_by_field) {
  std::vector<std::string> allowed{"10.0.1.10"};
  inventory inv{{"all", {"10.0.1.10"}},
                {"1web", {"10.0.1.10"}},
                {"web", {"10.0.1.10", "example.org", "10.0.1.99", "-oProxyCommand=x"}},
                {"empty", {}}};
  auto errors = validate_inventory(inv, allowed);
  std::vector<std::string> expected{"inventory.1web",   "inventory.all",    "inventory.empty",
                                    "inventory.web[1]", "inventory.web[2]", "inventory.web[3]"};
  BOOST_TEST(fields(errors) == expected, boost::test_tools::per_element());
  BOOST_TEST(errors[4].message == "is not an address of this deployment's VMs");
  BOOST_TEST(errors[3].message == "must be an IPv4 or IPv6 address");
}

BOOST_AUTO_TEST_CASE(an_empty_inventory_is_refused) {
  auto errors = validate_inventory({}, {"10.0.1.10"});
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].field == "inventory");
}

BOOST_AUTO_TEST_CASE(too_many_hosts_are_refused) {
  std::vector<std::string> hosts;
  for (int i = 0; i < 1001; ++i)
    hosts.push_back("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
  auto errors = validate_inventory({{"web", hosts}}, hosts);
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].message == "at most 1000 hosts");
}

BOOST_AUTO_TEST_CASE(ip_addresses_are_told_from_names) {
  BOOST_TEST(is_ip_address("127.0.10.10"));
  BOOST_TEST(is_ip_address("::1"));
  BOOST_TEST(!is_ip_address("10.0.1"));
  BOOST_TEST(!is_ip_address("10.0.1.10:22"));
  BOOST_TEST(!is_ip_address("localhost"));
  BOOST_TEST(!is_ip_address(std::string_view{"10.0.1.1\0x", 10}));
}

BOOST_AUTO_TEST_SUITE_END()
