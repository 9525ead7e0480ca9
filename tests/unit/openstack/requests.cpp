#include "orch/openstack/requests.hpp"

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>

#include "fake_transport.hpp"
#include "orch/time.hpp"

using namespace orch::openstack;
using orch::openstack::testing::read_sample;

namespace {

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  return doc;
}

bool same_json(const std::string& x, const std::string& y) {
  return parse_json(x) == parse_json(y);
}

server_spec web_server() {
  server_spec s;
  s.name = "orch-c1-web-0";
  s.flavor_ref = "1";
  s.networks.push_back(server_nic{"3cb9bc59-5699-4588-a4b1-b87f96708bc6", {}, {}});
  block_device bd;
  bd.uuid = "70a599e0-31e7-49b7-b260-868f441e862b";
  bd.boot_index = 0;
  bd.volume_size_gb = 10;
  s.block_devices.push_back(bd);
  s.metadata = {{"orch-owner", "c1"}, {"orch-id", "web-0"}};
  s.tags = {"orch:c1", "orch-id:web-0"};
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(requests)

BOOST_AUTO_TEST_CASE(subnet_bodies_match_the_neutron_samples) {
  subnet_spec minimal;
  minimal.network_id = "d32019d3-bc6e-4319-9c1d-6722fc136a22";
  minimal.cidr = "192.168.199.0/24";
  BOOST_TEST(
    same_json(*build_subnet_create(minimal), read_sample("neutron/subnet-create-request.json")));
  subnet_spec pools;
  pools.network_id = "d32019d3-bc6e-4319-9c1d-6722fc136a23";
  pools.cidr = "192.168.1.0/24";
  pools.allocation_pools = {{"192.168.1.2", "192.168.1.254"}};
  BOOST_TEST(same_json(*build_subnet_create(pools),
                       read_sample("neutron/subnet-create-request-allocation-pools.json")));
}

BOOST_AUTO_TEST_CASE(subnet_gateway_can_be_automatic_explicit_or_null) {
  subnet_spec s;
  s.network_id = "n";
  s.cidr = "10.0.1.0/24";
  s.gateway = gateway_mode::none;
  auto none = parse_json(*build_subnet_create(s));
  BOOST_TEST(none["subnet"]["gateway_ip"].IsNull());
  s.gateway = gateway_mode::explicit_address;
  s.gateway_ip = "10.0.1.254";
  auto fixed = parse_json(*build_subnet_create(s));
  BOOST_TEST(fixed["subnet"]["gateway_ip"].GetString() == std::string{"10.0.1.254"});
  s.gateway_ip.clear();
  BOOST_TEST(!build_subnet_create(s).ok());
  s.gateway = gateway_mode::automatic;
  s.ip_version = 5;
  BOOST_TEST(!build_subnet_create(s).ok());
}

BOOST_AUTO_TEST_CASE(router_bodies_send_only_the_external_network) {
  router_spec r;
  r.name = "router1";
  r.external_network_id = "ae34051f-aa6c-4c75-abf5-50dc9ac99ef3";
  auto doc = parse_json(*build_router_create(r));
  const auto& gw = doc["router"]["external_gateway_info"];
  BOOST_TEST(gw["network_id"].GetString() == std::string{"ae34051f-aa6c-4c75-abf5-50dc9ac99ef3"});
  BOOST_TEST(gw.MemberCount() == 1u);
  BOOST_TEST(same_json(build_router_interface("a2f1f29d-571b-4533-907f-5803ab96ead1"),
                       read_sample("neutron/router-add-interface-request.json")));
  BOOST_TEST(
    same_json(build_router_gateway(std::nullopt), R"({"router": {"external_gateway_info": {}}})"));
}

BOOST_AUTO_TEST_CASE(network_body_refuses_tags_and_needs_a_name) {
  network_spec n;
  BOOST_TEST(!build_network_create(n).ok());
  n.name = "orch-c1-net";
  auto doc = parse_json(*build_network_create(n));
  BOOST_TEST(!doc["network"].HasMember("tags"));
  BOOST_TEST(doc["network"]["admin_state_up"].GetBool());
}

BOOST_AUTO_TEST_CASE(tag_bodies_match_samples_and_enforce_service_rules) {
  BOOST_TEST(same_json(*build_tags(service::network, {"red", "blue"}),
                       read_sample("neutron/tags-replace-request.json")));
  BOOST_TEST(same_json(*build_tags(service::compute, {"tag1", "tag2"}),
                       read_sample("nova/server-tags-replace-req.json")));
  BOOST_TEST(!build_tags(service::compute, {"a/b"}).ok());
  BOOST_TEST(build_tags(service::network, {"a/b"}).ok());
  BOOST_TEST(!build_tags(service::network, {"a,b"}).ok());
  BOOST_TEST(!build_tags(service::compute, {std::string(61, 'x')}).ok());
  BOOST_TEST(build_tags(service::network, {std::string(61, 'x')}).ok());
  BOOST_TEST(!build_tags(service::network, {""}).ok());
  BOOST_TEST(!build_tags(service::network, std::vector<std::string>(51, "t")).ok());
}

BOOST_AUTO_TEST_CASE(server_body_has_every_field_the_orchestrator_needs) {
  auto spec = web_server();
  spec.key_name = "ops";
  spec.user_data = "#!/bin/bash\n/bin/su\necho \"I am in you!\"\n";
  auto doc = parse_json(*build_server_create(spec));
  const auto& s = doc["server"];
  BOOST_TEST(s["name"].GetString() == std::string{"orch-c1-web-0"});
  BOOST_TEST(s["flavorRef"].GetString() == std::string{"1"});
  BOOST_TEST(!s.HasMember("imageRef"));
  BOOST_TEST(s["networks"][0]["uuid"].GetString()
             == std::string{"3cb9bc59-5699-4588-a4b1-b87f96708bc6"});
  const auto& bd = s["block_device_mapping_v2"][0];
  BOOST_TEST(bd["boot_index"].GetInt() == 0);
  BOOST_TEST(bd["volume_size"].GetInt() == 10);
  BOOST_TEST(bd["delete_on_termination"].GetBool());
  BOOST_TEST(s["metadata"]["orch-owner"].GetString() == std::string{"c1"});
  BOOST_TEST(s["tags"].Size() == 2u);
  BOOST_TEST(s["key_name"].GetString() == std::string{"ops"});
  // The same user_data as Nova's own sample request.
  auto sample = parse_json(read_sample("nova/server-create-req-v2.52-tags-metadata.json"));
  BOOST_TEST(s["user_data"].GetString() == std::string{sample["server"]["user_data"].GetString()});
  BOOST_TEST(!s.HasMember("personality"));
}

BOOST_AUTO_TEST_CASE(server_networks_are_uuid_port_or_none) {
  auto spec = web_server();
  spec.networks = {server_nic{{}, "port-1", {}}};
  auto by_port = parse_json(*build_server_create(spec));
  BOOST_TEST(by_port["server"]["networks"][0]["port"].GetString() == std::string{"port-1"});
  spec.networks.clear();
  auto none = parse_json(*build_server_create(spec));
  BOOST_TEST(none["server"]["networks"].GetString() == std::string{"none"});
  spec.networks = {server_nic{"net", "port", {}}};
  BOOST_TEST(!build_server_create(spec).ok());
}

BOOST_AUTO_TEST_CASE(invalid_server_specs_name_the_field) {
  auto spec = web_server();
  spec.block_devices.clear();
  auto no_image = build_server_create(spec);
  BOOST_REQUIRE(!no_image.ok());
  BOOST_TEST(no_image.error().message.find("imageRef") != std::string::npos);
  spec = web_server();
  spec.tags.push_back("bad,tag");
  BOOST_TEST(!build_server_create(spec).ok());
  spec = web_server();
  spec.flavor_ref.clear();
  BOOST_TEST(!build_server_create(spec).ok());
  spec = web_server();
  spec.block_devices[0].uuid.clear();
  BOOST_TEST(!build_server_create(spec).ok());
}

BOOST_AUTO_TEST_CASE(server_actions_match_the_nova_samples) {
  BOOST_TEST(same_json(*build_server_action({server_action_kind::confirm_resize, {}, {}}),
                       read_sample("nova/server-action-confirm-resize-req.json")));
  BOOST_TEST(same_json(*build_server_action({server_action_kind::revert_resize, {}, {}}),
                       read_sample("nova/server-action-revert-resize-req.json")));
  auto resize = parse_json(*build_server_action({server_action_kind::resize, "2", {}}));
  auto sample = parse_json(read_sample("nova/server-action-resize-req.json"));
  BOOST_TEST((resize["resize"]["flavorRef"] == sample["resize"]["flavorRef"]));
  auto rebuild = parse_json(*build_server_action({server_action_kind::rebuild, {}, "img"}));
  BOOST_TEST(rebuild["rebuild"]["imageRef"].GetString() == std::string{"img"});
  BOOST_TEST(!build_server_action({server_action_kind::resize, {}, {}}).ok());
}

BOOST_AUTO_TEST_CASE(volume_bodies_carry_metadata_and_attach_bodies_the_volume_id) {
  volume_spec v;
  v.size_gb = 20;
  v.name = "orch-c1-app-0-vol-0";
  v.metadata = {{"orch-deployment", "c1"}};
  auto doc = parse_json(*build_volume_create(v));
  BOOST_TEST(doc["volume"]["size"].GetInt() == 20);
  BOOST_TEST(doc["volume"]["metadata"]["orch-deployment"].GetString() == std::string{"c1"});
  v.size_gb = 0;
  BOOST_TEST(!build_volume_create(v).ok());
  auto attach = parse_json(build_volume_attach("a07f71dc-8151-4e7d-a0cc-cd24a3f11113", true));
  auto sample = parse_json(read_sample("nova/volume-attach-req-v2.79.json"));
  BOOST_TEST((attach["volumeAttachment"]["volumeId"] == sample["volumeAttachment"]["volumeId"]));
  BOOST_TEST((attach["volumeAttachment"]["delete_on_termination"]
              == sample["volumeAttachment"]["delete_on_termination"]));
}

BOOST_AUTO_TEST_CASE(server_query_anchors_the_name_and_encodes_every_filter) {
  server_filters f;
  f.name = "orch-c1.web-0";
  f.statuses = {"ACTIVE", "ERROR"};
  f.tags = {"orch-deployment=d1", "orch-resource=web"};
  f.changes_since = orch::parse_rfc3339("2026-01-15T10:30:00Z");
  f.limit = 100;
  BOOST_TEST(server_detail_query(f)
             == "name=%5Eorch-c1%5C.web-0%24&status=ACTIVE&status=ERROR"
                "&tags=orch-deployment%3Dd1%2Corch-resource%3Dweb"
                "&changes-since=2026-01-15T10%3A30%3A00Z&limit=100");
  BOOST_TEST(server_detail_query({}).empty());
  BOOST_TEST(anchored_regex("a(b)*") == "^a\\(b\\)\\*$");
}

BOOST_AUTO_TEST_CASE(port_tag_and_volume_queries) {
  BOOST_TEST(port_query({"dev-1", "", "", {}}) == "device_id=dev-1");
  BOOST_TEST(port_query({"", "net-1", "", {}}) == "network_id=net-1");
  BOOST_TEST(port_query({"", "", "", {"orch-deployment=d", "orch-resource=web-1"}})
             == "tags=orch-deployment%3Dd%2Corch-resource%3Dweb-1");
  BOOST_TEST(tags_query({"a", "b"}) == "tags=a%2Cb");
  volume_filters vf;
  vf.metadata = {{"orch-deployment", "c1"}};
  BOOST_TEST(volume_detail_query(vf) == "metadata=%7B%22orch-deployment%22%3A%22c1%22%7D");
}

BOOST_AUTO_TEST_CASE(base64_pads_correctly) {
  BOOST_TEST(base64_encode("") == "");
  BOOST_TEST(base64_encode("f") == "Zg==");
  BOOST_TEST(base64_encode("fo") == "Zm8=");
  BOOST_TEST(base64_encode("foo") == "Zm9v");
  BOOST_TEST(base64_encode("foobar") == "Zm9vYmFy");
}

BOOST_AUTO_TEST_SUITE_END()
