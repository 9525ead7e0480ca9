#include "orch/sim/cloud.hpp"

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;

namespace {

answer create_port(cloud_fixture& f, const std::string& net, const std::string& extra = {}) {
  return f.send("POST", "/networking/v2.0/ports",
                R"({"port":{"network_id":")" + net + "\"" + extra + "}}");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(neutron, cloud_fixture)

BOOST_AUTO_TEST_CASE(a_public_external_network_exists_from_the_start) {
  auto a = send("GET", "/networking/v2.0/networks?name=public");
  BOOST_TEST(a.at("/networks")->Size() == 1u);
  BOOST_TEST(a.at("/networks/0/router:external")->GetBool());
  BOOST_TEST(send("GET", "/networking/v2.0/networks?router:external=true").at("/networks")->Size()
             == 1u);
}

BOOST_AUTO_TEST_CASE(network_create_answers_201_with_the_network) {
  auto a = send("POST", "/networking/v2.0/networks", R"({"network":{"name":"net1"}})");
  BOOST_TEST(a.status() == 201);
  BOOST_TEST(a.str("/network/name") == "net1");
  BOOST_TEST(a.str("/network/status") == "ACTIVE");
  BOOST_TEST(a.str("/network/project_id") == project_id);
}

BOOST_AUTO_TEST_CASE(tags_in_network_post_and_unknown_attributes_are_400) {
  auto a = send("POST", "/networking/v2.0/networks", R"({"network":{"name":"n","tags":["a"]}})");
  BOOST_TEST(a.status() == 400);
  BOOST_TEST(a.str("/NeutronError/message") == "Unrecognized attribute(s) 'tags'");
  BOOST_TEST(send("GET", "/networking/v2.0/networks?colour=red").status() == 400);
}

BOOST_AUTO_TEST_CASE(missing_network_is_network_not_found) {
  auto a = send("GET", "/networking/v2.0/networks/4e8e5957-649f-477b-9e5b-f1f75b21c03c");
  BOOST_TEST(a.status() == 404);
  BOOST_TEST(a.str("/NeutronError/type") == "NetworkNotFound");
  BOOST_TEST(a.str("/NeutronError/message")
             == "Network 4e8e5957-649f-477b-9e5b-f1f75b21c03c could not be found.");
  BOOST_TEST(a.str("/NeutronError/detail") == "");
}

BOOST_AUTO_TEST_CASE(subnet_defaults_gateway_to_first_host_and_pool_to_the_rest) {
  auto net = create_network("n");
  auto a = send("GET", "/networking/v2.0/subnets/" + create_subnet(net, "192.168.199.0/24"));
  BOOST_TEST(a.str("/subnet/gateway_ip") == "192.168.199.1");
  BOOST_TEST(a.str("/subnet/allocation_pools/0/start") == "192.168.199.2");
  BOOST_TEST(a.str("/subnet/allocation_pools/0/end") == "192.168.199.254");
  BOOST_TEST(a.str("/subnet/cidr") == "192.168.199.0/24");
}

BOOST_AUTO_TEST_CASE(ipv6_subnets_allocate_real_addresses) {
  auto net = create_network("n");
  auto sn = create_subnet(net, "fd00:1::/64", 6);
  auto a = send("GET", "/networking/v2.0/subnets/" + sn);
  BOOST_TEST(a.str("/subnet/gateway_ip") == "fd00:1::1");
  BOOST_TEST(a.str("/subnet/allocation_pools/0/end") == "fd00:1::ffff:ffff:ffff:ffff");
  auto p = create_port(*this, net);
  BOOST_TEST(p.str("/port/fixed_ips/0/ip_address") == "fd00:1::2");
}

BOOST_AUTO_TEST_CASE(explicit_pools_and_no_gateway) {
  auto net = create_network("n");
  auto sn = create_subnet(
    net, "10.1.0.0/24", 4,
    R"(,"gateway_ip":null,"allocation_pools":[{"start":"10.1.0.10","end":"10.1.0.11"}])");
  auto a = send("GET", "/networking/v2.0/subnets/" + sn);
  BOOST_TEST(a.at("/subnet/gateway_ip")->IsNull());
  BOOST_TEST(create_port(*this, net).str("/port/fixed_ips/0/ip_address") == "10.1.0.10");
  BOOST_TEST(create_port(*this, net).str("/port/fixed_ips/0/ip_address") == "10.1.0.11");
  auto full = create_port(*this, net);
  BOOST_TEST(full.status() == 409);
  BOOST_TEST(full.str("/NeutronError/type") == "IpAddressGenerationFailure");
}

BOOST_AUTO_TEST_CASE(a_pool_containing_the_gateway_is_refused) {
  auto net = create_network("n");
  auto a = send(
    "POST", "/networking/v2.0/subnets",
    R"({"subnet":{"network_id":")" + net
      + R"(","cidr":"10.2.0.0/24","ip_version":4,"allocation_pools":[{"start":"10.2.0.1","end":"10.2.0.9"}]}})");
  BOOST_TEST(a.status() == 409);
  BOOST_TEST(a.str("/NeutronError/type") == "GatewayConflictWithAllocationPools");
}

BOOST_AUTO_TEST_CASE(a_fixed_ip_can_be_asked_for_once) {
  auto net = create_network("n");
  auto sn = create_subnet(net, "10.3.0.0/24");
  auto want = R"(,"fixed_ips":[{"subnet_id":")" + sn + R"(","ip_address":"10.3.0.50"}])";
  BOOST_TEST(create_port(*this, net, want).str("/port/fixed_ips/0/ip_address") == "10.3.0.50");
  auto again = create_port(*this, net, want);
  BOOST_TEST(again.status() == 409);
  BOOST_TEST(again.str("/NeutronError/type") == "IpAddressAlreadyAllocated");
}

BOOST_AUTO_TEST_CASE(ports_filter_by_device_and_network_and_fixed_ip) {
  auto n1 = create_network("n1");
  auto n2 = create_network("n2");
  create_subnet(n1, "10.4.0.0/24");
  create_subnet(n2, "10.5.0.0/24");
  create_port(*this, n1, R"(,"device_id":"dev-a")");
  create_port(*this, n2, R"(,"device_id":"dev-b")");
  BOOST_TEST(send("GET", "/networking/v2.0/ports?device_id=dev-a").at("/ports")->Size() == 1u);
  BOOST_TEST(send("GET", "/networking/v2.0/ports?network_id=" + n2).str("/ports/0/device_id")
             == "dev-b");
  BOOST_TEST(
    send("GET", "/networking/v2.0/ports?fixed_ips=ip_address%3D10.5.0.2").at("/ports")->Size()
    == 1u);
  BOOST_TEST(send("GET", "/networking/v2.0/ports?network_id=" + n1 + "&network_id=" + n2)
               .at("/ports")
               ->Size()
             == 2u);
}

BOOST_AUTO_TEST_CASE(router_gateway_and_interfaces) {
  auto net = create_network("n");
  auto sn = create_subnet(net, "10.6.0.0/24");
  auto pub = send("GET", "/networking/v2.0/networks?name=public").str("/networks/0/id");
  auto r = send("POST", "/networking/v2.0/routers",
                R"({"router":{"name":"r","external_gateway_info":{"network_id":")" + pub + "\"}}}");
  BOOST_TEST(r.status() == 201);
  BOOST_TEST(r.str("/router/external_gateway_info/network_id") == pub);
  BOOST_TEST(r.str("/router/external_gateway_info/external_fixed_ips/0/ip_address")
             == "172.24.4.2");
  auto id = r.str("/router/id");
  auto add = send("PUT", "/networking/v2.0/routers/" + id + "/add_router_interface",
                  R"({"subnet_id":")" + sn + "\"}");
  BOOST_TEST(add.status() == 200);
  BOOST_TEST(add.str("/subnet_id") == sn);
  auto port = add.str("/port_id");
  BOOST_TEST(send("GET", "/networking/v2.0/ports/" + port).str("/port/fixed_ips/0/ip_address")
             == "10.6.0.1");
  auto twice = send("PUT", "/networking/v2.0/routers/" + id + "/add_router_interface",
                    R"({"subnet_id":")" + sn + "\"}");
  BOOST_TEST(twice.status() == 400);
  BOOST_TEST(twice.str("/NeutronError/message")
             == "Bad router request: Router already has a port on subnet " + sn + ".");
  auto direct = send("DELETE", "/networking/v2.0/ports/" + port);
  BOOST_TEST(direct.status() == 409);
  BOOST_TEST(direct.str("/NeutronError/type") == "ServicePortInUse");
  auto busy = send("DELETE", "/networking/v2.0/routers/" + id);
  BOOST_TEST(busy.status() == 409);
  BOOST_TEST(busy.str("/NeutronError/type") == "RouterInUse");
  BOOST_TEST(busy.str("/NeutronError/message")
             == "Router " + id + " has ports still attached: " + port);
  auto sub_busy = send("DELETE", "/networking/v2.0/subnets/" + sn);
  BOOST_TEST(sub_busy.status() == 409);
  BOOST_TEST(sub_busy.str("/NeutronError/type") == "SubnetInUse");
  auto remove = send("PUT", "/networking/v2.0/routers/" + id + "/remove_router_interface",
                     R"({"subnet_id":")" + sn + "\"}");
  BOOST_TEST(remove.status() == 200);
  BOOST_TEST(remove.str("/port_id") == port);
  auto gone = send("PUT", "/networking/v2.0/routers/" + id + "/remove_router_interface",
                   R"({"subnet_id":")" + sn + "\"}");
  BOOST_TEST(gone.status() == 404);
  BOOST_TEST(gone.str("/NeutronError/type") == "RouterInterfaceNotFoundForSubnet");
  auto cleared
    = send("PUT", "/networking/v2.0/routers/" + id, R"({"router":{"external_gateway_info":{}}})");
  BOOST_TEST(cleared.at("/router/external_gateway_info")->IsNull());
  BOOST_TEST(send("DELETE", "/networking/v2.0/routers/" + id).status() == 204);
  BOOST_TEST(send("DELETE", "/networking/v2.0/subnets/" + sn).status() == 204);
}

BOOST_AUTO_TEST_CASE(gateway_must_be_external) {
  auto net = create_network("n");
  auto r = send("POST", "/networking/v2.0/routers",
                R"({"router":{"name":"r","external_gateway_info":{"network_id":")" + net + "\"}}}");
  BOOST_TEST(r.status() == 400);
}

BOOST_AUTO_TEST_CASE(a_network_with_ports_cannot_be_deleted) {
  auto net = create_network("n");
  create_subnet(net, "10.7.0.0/24");
  auto port = create_port(*this, net).str("/port/id");
  auto a = send("DELETE", "/networking/v2.0/networks/" + net);
  BOOST_TEST(a.status() == 409);
  BOOST_TEST(a.str("/NeutronError/type") == "NetworkInUse");
  BOOST_TEST(a.str("/NeutronError/message")
             == "Unable to complete operation on network " + net
                  + ". There are one or more ports still in use on the network, id for these "
                    "ports is: "
                  + port + ".");
  BOOST_TEST(send("DELETE", "/networking/v2.0/ports/" + port).status() == 204);
  BOOST_TEST(send("DELETE", "/networking/v2.0/networks/" + net).status() == 204);
  BOOST_TEST(send("GET", "/networking/v2.0/subnets").at("/subnets")->Size() == 1u); // public's
}

BOOST_AUTO_TEST_CASE(network_quota_is_overquota_409) {
  auto cfg = test_config();
  cfg.quotas.networks = 2; // `public` counts: it belongs to the admin project
  cloud_fixture small{cfg};
  BOOST_TEST(small.send("POST", "/networking/v2.0/networks", R"({"network":{"name":"a"}})").status()
             == 201);
  auto a = small.send("POST", "/networking/v2.0/networks", R"({"network":{"name":"b"}})");
  BOOST_TEST(a.status() == 409);
  BOOST_TEST(a.str("/NeutronError/type") == "OverQuota");
  BOOST_TEST(a.str("/NeutronError/message") == "Quota exceeded for resources: ['network'].");
}

BOOST_AUTO_TEST_CASE(tags_replace_add_check_and_filter) {
  auto net = create_network("n");
  auto put
    = send("PUT", "/networking/v2.0/networks/" + net + "/tags", R"({"tags":["orch:c1","b"]})");
  BOOST_TEST(put.status() == 200);
  BOOST_TEST(put.at("/tags")->Size() == 2u);
  BOOST_TEST(send("PUT", "/networking/v2.0/networks/" + net + "/tags/c").status() == 201);
  BOOST_TEST(send("GET", "/networking/v2.0/networks/" + net + "/tags/c").status() == 204);
  BOOST_TEST(send("GET", "/networking/v2.0/networks/" + net + "/tags/zz").status() == 404);
  BOOST_TEST(send("GET", "/networking/v2.0/networks?tags=orch:c1,c").at("/networks")->Size() == 1u);
  BOOST_TEST(send("GET", "/networking/v2.0/networks?not-tags-any=orch:c1").at("/networks")->Size()
             == 1u); // only public
  BOOST_TEST(send("DELETE", "/networking/v2.0/networks/" + net + "/tags/c").status() == 204);
  BOOST_TEST(send("GET", "/networking/v2.0/networks/" + net).at("/network/tags")->Size() == 2u);
}

BOOST_AUTO_TEST_CASE(lists_page_with_limit_and_marker) {
  for (auto name : {"a", "b", "c"}) create_network(name);
  auto first = send("GET", "/networking/v2.0/networks?limit=2");
  BOOST_TEST(first.at("/networks")->Size() == 2u);
  auto href = first.str("/networks_links/0/href");
  BOOST_TEST(href.starts_with("http://sim.test:5000/networking/v2.0/networks?limit=2&marker="));
  auto rest = send("GET", href.substr(20));
  BOOST_TEST(rest.at("/networks")->Size() == 2u);
  BOOST_TEST(rest.at("/networks_links") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
