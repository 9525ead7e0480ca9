#include "orch/sim/cloud.hpp"

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;

namespace {

struct l3_fixture : cloud_fixture {
  std::string net;
  std::string subnet;
  std::string pub;
  std::string router;

  l3_fixture() {
    net = create_network("private");
    subnet = create_subnet(net, "10.0.0.0/24");
    pub = send("GET", "/networking/v2.0/networks?name=public").str("/networks/0/id");
    router
      = send("POST", "/networking/v2.0/routers",
             R"({"router":{"name":"r","external_gateway_info":{"network_id":")" + pub + "\"}}}")
          .str("/router/id");
    send("PUT", "/networking/v2.0/routers/" + router + "/add_router_interface",
         R"({"subnet_id":")" + subnet + "\"}");
  }

  answer create_fip(const std::string& port = {}) {
    auto extra = port.empty() ? std::string{} : R"(,"port_id":")" + port + "\"";
    return send("POST", "/networking/v2.0/floatingips",
                R"({"floatingip":{"floating_network_id":")" + pub + "\"" + extra + "}}");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(neutron_security, l3_fixture)

BOOST_AUTO_TEST_CASE(each_project_has_a_default_group_used_by_new_ports) {
  auto groups = send("GET", "/networking/v2.0/security-groups?name=default");
  BOOST_TEST(groups.at("/security_groups")->Size() == 1u);
  auto id = groups.str("/security_groups/0/id");
  BOOST_TEST(groups.at("/security_groups/0/security_group_rules")->Size() == 4u);
  auto port = send("POST", "/networking/v2.0/ports", R"({"port":{"network_id":")" + net + "\"}}");
  BOOST_TEST(port.str("/port/security_groups/0") == id);
  auto del = send("DELETE", "/networking/v2.0/security-groups/" + id);
  BOOST_TEST(del.status() == 409);
}

BOOST_AUTO_TEST_CASE(a_new_group_has_two_egress_rules_and_rejects_duplicates) {
  auto g = send("POST", "/networking/v2.0/security-groups",
                R"({"security_group":{"name":"web","description":"d"}})");
  BOOST_TEST(g.status() == 201);
  BOOST_TEST(g.at("/security_group/security_group_rules")->Size() == 2u);
  BOOST_TEST(g.str("/security_group/security_group_rules/0/direction") == "egress");
  auto id = g.str("/security_group/id");
  auto rule
    = R"({"security_group_rule":{"security_group_id":")" + id
      + R"(","direction":"ingress","protocol":"tcp","port_range_min":"80","port_range_max":80,"remote_ip_prefix":"0.0.0.0/0"}})";
  auto first = send("POST", "/networking/v2.0/security-group-rules", rule);
  BOOST_REQUIRE_EQUAL(first.status(), 201);
  BOOST_TEST(first.at("/security_group_rule/port_range_min")->GetInt() == 80);
  auto again = send("POST", "/networking/v2.0/security-group-rules", rule);
  BOOST_TEST(again.status() == 409);
  BOOST_TEST(again.str("/NeutronError/type") == "SecurityGroupRuleExists");
  BOOST_TEST(again.str("/NeutronError/message")
             == "Security group rule already exists. Rule id is "
                  + first.str("/security_group_rule/id") + ".");
  auto two_remotes = send("POST", "/networking/v2.0/security-group-rules",
                          R"({"security_group_rule":{"security_group_id":")" + id
                            + R"(","direction":"ingress","remote_group_id":")" + id
                            + R"(","remote_ip_prefix":"10.0.0.0/8"}})");
  BOOST_TEST(two_remotes.status() == 400);
}

BOOST_AUTO_TEST_CASE(a_group_in_use_by_a_server_port_cannot_be_deleted) {
  auto g = send("POST", "/networking/v2.0/security-groups", R"({"security_group":{"name":"web"}})")
             .str("/security_group/id");
  auto s = boot("vm", net, "1", R"(,"security_groups":[{"name":"web"}])");
  BOOST_REQUIRE_EQUAL(s.status(), 202);
  advance(2s);
  auto server = send("GET", "/compute/v2.1/servers/" + s.str("/server/id"));
  BOOST_TEST(server.str("/server/security_groups/0/name") == "web");
  auto busy = send("DELETE", "/networking/v2.0/security-groups/" + g);
  BOOST_TEST(busy.status() == 409);
  BOOST_TEST(busy.str("/NeutronError/type") == "SecurityGroupInUse");
  BOOST_TEST(boot("vm2", net, "1", R"(,"security_groups":[{"name":"nope"}])").status() == 400);
}

BOOST_AUTO_TEST_CASE(floating_ip_associates_through_the_router_and_shows_in_nova) {
  auto server = boot_active("vm", net);
  auto port = send("GET", "/networking/v2.0/ports?device_id=" + server).str("/ports/0/id");
  auto fip = create_fip(port);
  BOOST_TEST(fip.status() == 201);
  BOOST_TEST(fip.str("/floatingip/router_id") == router);
  BOOST_TEST(fip.str("/floatingip/fixed_ip_address") == "10.0.0.2");
  BOOST_TEST(fip.str("/floatingip/status") == "ACTIVE");
  auto address = fip.str("/floatingip/floating_ip_address");
  auto s = send("GET", "/compute/v2.1/servers/" + server);
  BOOST_TEST(s.str("/server/addresses/private/1/addr") == address);
  BOOST_TEST(s.str("/server/addresses/private/1/OS-EXT-IPS:type") == "floating");
}

BOOST_AUTO_TEST_CASE(a_floating_ip_pins_the_router_interface_and_gateway) {
  auto server = boot_active("vm", net);
  auto port = send("GET", "/networking/v2.0/ports?device_id=" + server).str("/ports/0/id");
  auto fip = create_fip(port).str("/floatingip/id");
  auto remove = send("PUT", "/networking/v2.0/routers/" + router + "/remove_router_interface",
                     R"({"subnet_id":")" + subnet + "\"}");
  BOOST_TEST(remove.status() == 409);
  BOOST_TEST(remove.str("/NeutronError/type") == "RouterInterfaceInUseByFloatingIP");
  auto clear = send("PUT", "/networking/v2.0/routers/" + router,
                    R"({"router":{"external_gateway_info":{}}})");
  BOOST_TEST(clear.status() == 409);
  BOOST_TEST(clear.str("/NeutronError/type") == "RouterExternalGatewayInUseByFloatingIp");
  auto off
    = send("PUT", "/networking/v2.0/floatingips/" + fip, R"({"floatingip":{"port_id":null}})");
  BOOST_TEST(off.status() == 200);
  BOOST_TEST(off.at("/floatingip/port_id")->IsNull());
  BOOST_TEST(send("PUT", "/networking/v2.0/routers/" + router + "/remove_router_interface",
                  R"({"subnet_id":")" + subnet + "\"}")
               .status()
             == 200);
  BOOST_TEST(send("DELETE", "/networking/v2.0/floatingips/" + fip).status() == 204);
  BOOST_TEST(send("GET", "/networking/v2.0/floatingips/" + fip).status() == 404);
}

BOOST_AUTO_TEST_CASE(no_router_means_external_gateway_not_found) {
  auto other = create_network("isolated");
  create_subnet(other, "10.50.0.0/24");
  auto port = send("POST", "/networking/v2.0/ports", R"({"port":{"network_id":")" + other + "\"}}")
                .str("/port/id");
  auto fip = create_fip(port);
  BOOST_TEST(fip.status() == 404);
  BOOST_TEST(fip.str("/NeutronError/type") == "ExternalGatewayForFloatingIPNotFound");
}

BOOST_AUTO_TEST_CASE(deleting_the_server_port_disassociates_the_floating_ip) {
  auto server = boot_active("vm", net);
  auto port = send("GET", "/networking/v2.0/ports?device_id=" + server).str("/ports/0/id");
  auto fip = create_fip(port).str("/floatingip/id");
  send("DELETE", "/compute/v2.1/servers/" + server);
  advance(1s);
  auto f = send("GET", "/networking/v2.0/floatingips/" + fip);
  BOOST_TEST(f.at("/floatingip/port_id")->IsNull());
  BOOST_TEST(f.str("/floatingip/status") == "DOWN");
}

BOOST_AUTO_TEST_SUITE_END()
