#include "orch/openstack/responses.hpp"

#include <boost/test/unit_test.hpp>

#include "fake_transport.hpp"

using namespace orch::openstack;
using orch::openstack::testing::read_sample;

namespace {

template <class T>
const T& ok(const result<T>& res) {
  if (!res.ok()) BOOST_FAIL("unexpected error: " << to_string(res.error()));
  return res.value();
}

template <class T>
std::string error_message(const result<T>& res) {
  BOOST_REQUIRE(!res.ok());
  BOOST_TEST(to_string(res.error().kind) == "malformed_response");
  return res.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(responses)

BOOST_AUTO_TEST_CASE(neutron_create_responses_parse) {
  auto net = ok(parse_network(read_sample("neutron/network-create-response.json")));
  BOOST_TEST(net.id == "4e8e5957-649f-477b-9e5b-f1f75b21c03c");
  BOOST_TEST(net.status == "ACTIVE");
  BOOST_TEST(!net.external);
  auto sub = ok(parse_subnet(read_sample("neutron/subnet-create-response.json")));
  BOOST_TEST(sub.gateway_ip == "192.168.199.1");
  BOOST_TEST(sub.ip_version == 4);
  BOOST_REQUIRE(sub.allocation_pools.size() == 1u);
  BOOST_TEST(sub.allocation_pools[0].start == "192.168.199.2");
  auto rt = ok(parse_router(read_sample("neutron/router-create-response.json")));
  BOOST_TEST(rt.external_network_id == "ae34051f-aa6c-4c75-abf5-50dc9ac99ef3");
  BOOST_REQUIRE(rt.external_fixed_ips.size() == 1u);
  BOOST_TEST(rt.external_fixed_ips[0].ip_address == "172.24.4.6");
}

BOOST_AUTO_TEST_CASE(router_interface_answers_parse) {
  auto add = ok(parse_router_interface(read_sample("neutron/router-add-interface-response.json")));
  BOOST_TEST(add.router_id == "915a14a6-867b-4af7-83d1-70efceb146f9");
  BOOST_TEST(add.port_id == "2dc46bcc-d1f2-4077-b99e-91ee28afaff0");
  BOOST_TEST(add.subnet_id == "a2f1f29d-571b-4533-907f-5803ab96ead1");
  auto rm
    = ok(parse_router_interface(read_sample("neutron/router-remove-interface-response.json")));
  BOOST_TEST(rm.subnet_id == "4e5fe97c-82bc-432e-87d8-06d7e157dffa");
}

BOOST_AUTO_TEST_CASE(port_lists_parse_with_fixed_ips) {
  auto devstack = ok(parse_ports(read_sample("neutron/ports-list-by-device-id-devstack.json")));
  BOOST_REQUIRE(devstack.items.size() == 1u);
  BOOST_TEST(devstack.items[0].device_id == "6dc2e525-a218-4814-9dc5-4cfcf2332268");
  BOOST_TEST(devstack.items[0].fixed_ips[0].ip_address == "192.168.233.37");
  BOOST_TEST(!devstack.next.has_value());
  auto listed = ok(parse_ports(read_sample("neutron/ports-list-response.json")));
  BOOST_TEST(listed.items.size() == 2u);
  BOOST_TEST(listed.items[1].device_owner == "network:router_interface");
}

BOOST_AUTO_TEST_CASE(tag_answers_parse) {
  BOOST_TEST(ok(parse_tags(read_sample("neutron/tags-replace-response.json")))
             == (std::vector<std::string>{"red", "blue"}));
  BOOST_TEST(ok(parse_tags(read_sample("nova/server-tags-replace-resp.json"))).size() == 2u);
}

BOOST_AUTO_TEST_CASE(server_create_answer_yields_the_id) {
  auto created = ok(parse_server_create(read_sample("nova/server-create-resp.json")));
  BOOST_TEST(created.id == "f5dc173b-6804-445a-a6d8-c705dad5b5eb");
}

BOOST_AUTO_TEST_CASE(active_server_parses_state_flavor_and_addresses) {
  auto s = ok(parse_server(read_sample("nova/server-get-resp-active-v2.90.json")));
  BOOST_TEST(s.status == "ACTIVE");
  BOOST_TEST(s.vm_state == "active");
  BOOST_TEST(s.task_state.empty());
  BOOST_TEST(s.flavor_name == "m1.tiny");
  BOOST_TEST(s.image_id == "70a599e0-31e7-49b7-b260-868f441e862b");
  BOOST_REQUIRE(s.addresses.size() == 1u);
  BOOST_TEST(s.addresses[0].network == "private");
  BOOST_TEST(s.addresses[0].addr == "192.168.1.30");
  BOOST_TEST(s.addresses[0].type == "fixed");
  BOOST_TEST(s.metadata.at("My Server Name") == "Apache1");
  BOOST_TEST(s.created.has_value());
}

BOOST_AUTO_TEST_CASE(building_server_from_devstack_parses) {
  auto s = ok(parse_server(read_sample("nova/server-get-resp-build-devstack.json")));
  BOOST_TEST(s.status == "BUILD");
  BOOST_TEST(s.task_state == "scheduling");
  BOOST_TEST(s.flavor_id == "c1");
  BOOST_TEST(s.addresses.empty());
  BOOST_TEST(s.key_name == "jade-public-key");
}

BOOST_AUTO_TEST_CASE(error_server_exposes_its_fault) {
  auto s = ok(parse_server(read_sample("nova/server-get-resp-error-fault.json")));
  BOOST_TEST(s.status == "ERROR");
  BOOST_REQUIRE(s.fault_code.has_value());
  BOOST_TEST(*s.fault_code == 500);
  BOOST_TEST(s.fault_message.find("No valid host") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(server_lists_carry_the_next_link) {
  auto pg = ok(parse_servers_detail(read_sample("nova/servers-details-resp-v2.90.json")));
  BOOST_REQUIRE(pg.items.size() == 1u);
  BOOST_REQUIRE(pg.next.has_value());
  BOOST_TEST(pg.next->find("marker=f5dc173b-6804-445a-a6d8-c705dad5b5eb") != std::string::npos);
  auto last = ok(parse_servers_detail(R"({"servers": []})"));
  BOOST_TEST(last.items.empty());
  BOOST_TEST(!last.next.has_value());
}

BOOST_AUTO_TEST_CASE(volume_attachments_parse) {
  auto att = ok(parse_volume_attachment(read_sample("nova/volume-attach-resp-v2.79.json")));
  BOOST_TEST(att.device == "/dev/sdb");
  BOOST_TEST(att.delete_on_termination);
  auto list
    = ok(parse_volume_attachments(read_sample("nova/volume-attachments-list-resp-v2.89.json")));
  BOOST_REQUIRE(list.size() == 2u);
  BOOST_TEST(list[0].tag.empty());
  BOOST_TEST(list[1].tag == "foo");
}

BOOST_AUTO_TEST_CASE(flavors_parse_by_name_and_size) {
  auto pg = ok(parse_flavors(read_sample("nova/flavors-detail-resp-v2.75.json")));
  BOOST_REQUIRE(pg.items.size() == 7u);
  BOOST_TEST(pg.items[1].name == "m1.small");
  BOOST_TEST(pg.items[1].ram_mb == 2048);
  BOOST_TEST(pg.items[1].disk_gb == 20);
}

BOOST_AUTO_TEST_CASE(volumes_parse_including_non_string_metadata_and_attachments) {
  auto created = ok(parse_volume(read_sample("cinder/volume-create-response-v3.69.json")));
  BOOST_TEST(created.status == "creating");
  BOOST_TEST(created.size_gb == 10);
  BOOST_TEST(created.name.empty());
  auto pg = ok(parse_volumes(read_sample("cinder/volumes-list-detailed-in-use-available.json")));
  BOOST_REQUIRE(pg.items.size() == 2u);
  BOOST_TEST(pg.items[0].status == "in-use");
  BOOST_TEST(pg.items[0].attachments[0].server_id == "f4fda93b-06e0-4743-8117-bc8bcecd651b");
  BOOST_TEST(pg.items[0].metadata.at("readonly") == "false");
  BOOST_TEST(pg.items[1].bootable);
  BOOST_TEST(pg.next.has_value());
}

BOOST_AUTO_TEST_CASE(images_parse_with_glance_paging) {
  auto pg = ok(parse_images(read_sample("glance/images-list-response.json")));
  BOOST_REQUIRE(pg.items.size() == 2u);
  BOOST_TEST(pg.items[0].name == "cirros-0.3.2-x86_64-disk");
  BOOST_TEST(pg.items[0].status == "active");
  BOOST_TEST(!pg.next.has_value());
  auto paged = ok(parse_images(R"({"images": [], "next": "/v2/images?marker=x"})"));
  BOOST_TEST(*paged.next == "/v2/images?marker=x");
}

BOOST_AUTO_TEST_CASE(malformed_bodies_are_rejected_with_the_json_path) {
  BOOST_TEST(error_message(parse_server("")).find("not JSON") != std::string::npos);
  BOOST_TEST(error_message(parse_server("[]")).find("object") != std::string::npos);
  BOOST_TEST(error_message(parse_server(R"({"servers": {}})")) == "server: missing");
  BOOST_TEST(error_message(parse_server(R"({"server": {"id": 5, "status": "ACTIVE"}})"))
             == "server.id: expected a string");
  BOOST_TEST(error_message(parse_servers_detail(R"({"servers": [{"id": "a", "status": "X"},
                                                   {"status": "X"}]})"))
             == "servers[1].id: missing");
  BOOST_TEST(error_message(parse_server(R"({"server": {"id": "a", "status": "A",
                                             "addresses": {"n": [{"addr": 1}]}}})"))
             == "server.addresses.n[0].addr: expected a string");
  BOOST_TEST(error_message(parse_network(R"({"network": {"id": "a", "tags": "x"}})"))
             == "network.tags: expected an array");
  BOOST_TEST(error_message(parse_volumes(R"({"volumes": [{"id": "v", "status": "ok",
                                               "size": "big"}]})"))
             == "volumes[0].size: expected an integer");
  BOOST_TEST(!parse_router_interface(R"({"id": "r"})").ok());
  BOOST_TEST(!parse_flavors(R"({"flavors": [null]})").ok());
}

BOOST_AUTO_TEST_CASE(truncating_any_sample_never_crashes_a_parser) {
  for (auto file :
       {"nova/server-get-resp-active-v2.90.json", "nova/servers-details-resp-v2.90.json",
        "cinder/volumes-list-detailed-in-use-available.json", "neutron/ports-list-response.json"}) {
    auto body = read_sample(file);
    for (size_t n = 0; n < body.size(); n += 7) {
      auto part = body.substr(0, n);
      BOOST_TEST(!parse_server(part).ok());
      BOOST_TEST(!parse_servers_detail(part).ok());
      BOOST_TEST(!parse_volumes(part).ok());
      BOOST_TEST(!parse_ports(part).ok());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
