#include "orch/sim/cloud.hpp"

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;

namespace {

struct nova_fixture : cloud_fixture {
  std::string net;
  nova_fixture() {
    net = create_network("private");
    create_subnet(net, "10.0.0.0/24");
  }
};

std::vector<std::string> names_of(const answer& a) {
  std::vector<std::string> result;
  for (auto& s : a.at("/servers")->GetArray()) result.emplace_back(s["name"].GetString());
  return result;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(nova, nova_fixture)

BOOST_AUTO_TEST_CASE(version_documents_need_no_token) {
  auto root = send("GET", "/compute", {}, {}, false);
  BOOST_TEST(root.status() == 200);
  BOOST_TEST(root.str("/versions/0/status") == "DEPRECATED");
  BOOST_TEST(root.str("/versions/1/id") == "v2.1");
  BOOST_TEST(root.str("/versions/1/status") == "CURRENT");
  auto v21 = send("GET", "/compute/v2.1/", {}, {}, false);
  BOOST_TEST(v21.status() == 200);
  BOOST_TEST(v21.str("/version/min_version") == "2.1");
  BOOST_TEST(v21.str("/version/links/0/href") == "http://sim.test:5000/compute/v2.1/");
}

BOOST_AUTO_TEST_CASE(microversion_is_echoed_and_out_of_range_is_406) {
  auto a = send("GET", "/compute/v2.1/servers");
  BOOST_TEST(a.res.header("OpenStack-API-Version") == "compute 2.90");
  BOOST_TEST(a.res.header("X-OpenStack-Nova-API-Version") == "2.90");
  nova_version = "2.200";
  auto b = send("GET", "/compute/v2.1/servers");
  BOOST_TEST(b.status() == 406);
  BOOST_TEST(b.str("/computeFault/message")
             == "Version 2.200 is not supported by the API. Minimum is 2.1 and maximum is "
                "2.101.");
  nova_version = "";
  BOOST_TEST(send("GET", "/compute/v2.1/servers").res.header("X-OpenStack-Nova-API-Version")
             == "2.1");
}

BOOST_AUTO_TEST_CASE(a_server_builds_then_turns_active_after_the_boot_time) {
  auto a = boot("web-0", net);
  BOOST_TEST(a.status() == 202);
  auto id = a.str("/server/id");
  BOOST_TEST(std::string{a.res.header("Location")}
             == "http://sim.test:5000/compute/v2.1/servers/" + id);
  auto build = send("GET", "/compute/v2.1/servers/" + id);
  BOOST_TEST(build.str("/server/status") == "BUILD");
  BOOST_TEST(build.str("/server/OS-EXT-STS:task_state") == "scheduling");
  BOOST_TEST(build.at("/server/addresses")->MemberCount() == 0u);
  advance(1999ms);
  BOOST_TEST(server_status(id) == "BUILD");
  advance(1ms);
  auto active = send("GET", "/compute/v2.1/servers/" + id);
  BOOST_TEST(active.str("/server/status") == "ACTIVE");
  BOOST_TEST(active.str("/server/OS-EXT-STS:vm_state") == "active");
  BOOST_TEST(active.at("/server/OS-EXT-STS:task_state")->IsNull());
  BOOST_TEST(active.str("/server/addresses/private/0/addr") == "10.0.0.2");
  BOOST_TEST(active.str("/server/flavor/original_name") == "m1.tiny");
}

BOOST_AUTO_TEST_CASE(boot_creates_a_port_owned_by_the_server) {
  auto id = boot_active("web-0", net);
  auto ports = send("GET", "/networking/v2.0/ports?device_id=" + id);
  BOOST_TEST(ports.at("/ports")->Size() == 1u);
  BOOST_TEST(ports.str("/ports/0/device_owner") == "compute:nova");
  BOOST_TEST(ports.str("/ports/0/network_id") == net);
}

BOOST_AUTO_TEST_CASE(missing_server_is_item_not_found) {
  auto a = send("GET", "/compute/v2.1/servers/0e44cc9c-e052-415d-afbf-469b0d384170");
  BOOST_TEST(a.status() == 404);
  BOOST_TEST(a.at("/itemNotFound/code")->GetInt() == 404);
  BOOST_TEST(a.str("/itemNotFound/message")
             == "Instance 0e44cc9c-e052-415d-afbf-469b0d384170 could not be found.");
}

BOOST_AUTO_TEST_CASE(unknown_network_is_a_bad_request) {
  auto a = boot("web-0", "3cb9bc59-5699-4588-a4b1-b87f96708bc6");
  BOOST_TEST(a.status() == 400);
  BOOST_TEST(a.str("/badRequest/message")
             == "Network 3cb9bc59-5699-4588-a4b1-b87f96708bc6 could not be found.");
}

BOOST_AUTO_TEST_CASE(networks_are_mandatory_from_2_37) {
  auto a
    = send("POST", "/compute/v2.1/servers",
           R"({"server":{"name":"x","flavorRef":"1","imageRef":")" + image_id("cirros") + "\"}}");
  BOOST_TEST(a.status() == 400);
}

BOOST_AUTO_TEST_CASE(instance_quota_is_a_403_forbidden) {
  for (int i = 0; i < 10; ++i)
    BOOST_REQUIRE_EQUAL(boot("web-" + std::to_string(i), net).status(), 202);
  auto a = boot("one-too-many", net);
  BOOST_TEST(a.status() == 403);
  BOOST_TEST(a.str("/forbidden/message")
             == "Quota exceeded for instances: Requested 1, but already used 10 of 10 "
                "instances");
}

BOOST_AUTO_TEST_CASE(core_quota_counts_flavors) {
  BOOST_REQUIRE_EQUAL(boot("big", net, "5").status(), 202); // 8 cores
  BOOST_REQUIRE_EQUAL(boot("big2", net, "5").status(), 202);
  auto a = boot("big3", net, "5");
  BOOST_TEST(a.status() == 403);
  BOOST_TEST(a.str("/forbidden/message")
             == "Quota exceeded for cores: Requested 8, but already used 16 of 20 cores");
}

BOOST_AUTO_TEST_CASE(injected_boot_failure_gives_error_with_fault) {
  BOOST_REQUIRE_EQUAL(send("POST", "/_sim/boot-failures", R"({"count":1})").status(), 200);
  auto bad = boot_active("bad", net);
  auto good = boot_active("good", net);
  auto a = send("GET", "/compute/v2.1/servers/" + bad);
  BOOST_TEST(a.str("/server/status") == "ERROR");
  BOOST_TEST(a.at("/server/fault/code")->GetInt() == 500);
  BOOST_TEST(a.str("/server/fault/message")
             == "No valid host was found. There are not enough hosts available.");
  BOOST_TEST(server_status(good) == "ACTIVE");
}

BOOST_AUTO_TEST_CASE(resize_goes_through_verify_resize_and_confirm) {
  auto id = boot_active("web", net);
  auto resize
    = send("POST", "/compute/v2.1/servers/" + id + "/action", R"({"resize":{"flavorRef":"2"}})");
  BOOST_TEST(resize.status() == 202);
  BOOST_TEST(resize.res.body.empty());
  BOOST_TEST(server_status(id) == "RESIZE");
  advance(2s);
  auto verify = send("GET", "/compute/v2.1/servers/" + id);
  BOOST_TEST(verify.str("/server/status") == "VERIFY_RESIZE");
  BOOST_TEST(verify.str("/server/OS-EXT-STS:vm_state") == "resized");
  BOOST_TEST(verify.str("/server/flavor/original_name") == "m1.small");
  auto confirm
    = send("POST", "/compute/v2.1/servers/" + id + "/action", R"({"confirmResize":null})");
  BOOST_TEST(confirm.status() == 204);
  // Still VERIFY_RESIZE until the source host is cleaned up; a second confirm is a 400.
  BOOST_TEST(server_status(id) == "VERIFY_RESIZE");
  auto again = send("POST", "/compute/v2.1/servers/" + id + "/action", R"({"confirmResize":null})");
  BOOST_TEST(again.status() == 400);
  BOOST_TEST(again.str("/badRequest/message") == "Instance has not been resized.");
  advance(2s);
  BOOST_TEST(server_status(id) == "ACTIVE");
}

BOOST_AUTO_TEST_CASE(revert_resize_restores_the_old_flavor) {
  auto id = boot_active("web", net);
  send("POST", "/compute/v2.1/servers/" + id + "/action", R"({"resize":{"flavorRef":"2"}})");
  advance(2s);
  auto revert = send("POST", "/compute/v2.1/servers/" + id + "/action", R"({"revertResize":null})");
  BOOST_TEST(revert.status() == 202);
  BOOST_TEST(server_status(id) == "REVERT_RESIZE");
  advance(2s);
  auto a = send("GET", "/compute/v2.1/servers/" + id);
  BOOST_TEST(a.str("/server/status") == "ACTIVE");
  BOOST_TEST(a.str("/server/flavor/original_name") == "m1.tiny");
}

BOOST_AUTO_TEST_CASE(actions_in_the_wrong_state_are_409) {
  auto a = boot("web", net);
  auto id = a.str("/server/id");
  auto resize
    = send("POST", "/compute/v2.1/servers/" + id + "/action", R"({"resize":{"flavorRef":"2"}})");
  BOOST_TEST(resize.status() == 409);
  BOOST_TEST(resize.str("/conflictingRequest/message")
             == "Cannot 'resize' instance " + id + " while it is in task_state scheduling");
  advance(2s);
  auto confirm
    = send("POST", "/compute/v2.1/servers/" + id + "/action", R"({"confirmResize":null})");
  BOOST_TEST(confirm.status() == 409);
  BOOST_TEST(confirm.str("/conflictingRequest/message")
             == "Cannot 'confirmResize' instance " + id + " while it is in vm_state active");
  auto same
    = send("POST", "/compute/v2.1/servers/" + id + "/action", R"({"resize":{"flavorRef":"1"}})");
  BOOST_TEST(same.status() == 400);
  BOOST_TEST(same.str("/badRequest/message") == "When resizing, instances must change flavor!");
}

BOOST_AUTO_TEST_CASE(rebuild_changes_the_image_and_returns_to_active) {
  auto id = boot_active("web", net);
  auto ubuntu = image_id("ubuntu-22.04");
  auto a = send("POST", "/compute/v2.1/servers/" + id + "/action",
                R"({"rebuild":{"imageRef":")" + ubuntu + "\"}}");
  BOOST_TEST(a.status() == 202);
  BOOST_TEST(a.str("/server/status") == "REBUILD");
  advance(2s);
  auto b = send("GET", "/compute/v2.1/servers/" + id);
  BOOST_TEST(b.str("/server/status") == "ACTIVE");
  BOOST_TEST(b.str("/server/image/id") == ubuntu);
}

BOOST_AUTO_TEST_CASE(delete_is_204_then_404_once_finished_and_ports_are_freed) {
  auto id = boot_active("web", net);
  BOOST_TEST(send("DELETE", "/compute/v2.1/servers/" + id).status() == 204);
  auto deleting = send("GET", "/compute/v2.1/servers/" + id);
  BOOST_TEST(deleting.status() == 200);
  BOOST_TEST(deleting.str("/server/OS-EXT-STS:task_state") == "deleting");
  BOOST_TEST(send("GET", "/networking/v2.0/ports?device_id=" + id).at("/ports")->Size() == 1u);
  advance(1s);
  BOOST_TEST(send("GET", "/compute/v2.1/servers/" + id).status() == 404);
  BOOST_TEST(send("GET", "/networking/v2.0/ports?device_id=" + id).at("/ports")->Size() == 0u);
  // The freed address is handed out again.
  auto again = boot_active("web2", net);
  BOOST_TEST(send("GET", "/compute/v2.1/servers/" + again).str("/server/addresses/private/0/addr")
             == "10.0.0.2");
}

BOOST_AUTO_TEST_CASE(name_filter_is_an_unanchored_regex) {
  for (auto name : {"web-1", "web-10", "myweb-1", "db-1"}) boot(name, net);
  auto a = send("GET", "/compute/v2.1/servers?name=web-1");
  BOOST_TEST((names_of(a) == std::vector<std::string>{"myweb-1", "web-10", "web-1"}));
  auto anchored = send("GET", "/compute/v2.1/servers?name=%5Eweb-1%24");
  BOOST_TEST((names_of(anchored) == std::vector<std::string>{"web-1"}));
}

BOOST_AUTO_TEST_CASE(status_filter_and_invalid_status) {
  boot_active("old", net);
  boot("new", net);
  BOOST_TEST((names_of(send("GET", "/compute/v2.1/servers?status=BUILD"))
              == std::vector<std::string>{"new"}));
  BOOST_TEST(
    (names_of(send("GET", "/compute/v2.1/servers?status=ACTIVE&status=BUILD")).size() == 2u));
  BOOST_TEST(send("GET", "/compute/v2.1/servers?status=SLEEPY").status() == 400);
}

BOOST_AUTO_TEST_CASE(tag_filters_follow_nova_semantics) {
  boot("a", net, "1", R"(,"tags":["orch:c1","x"])");
  boot("b", net, "1", R"(,"tags":["orch:c1"])");
  boot("c", net, "1", R"(,"tags":["orch:c2"])");
  BOOST_TEST((names_of(send("GET", "/compute/v2.1/servers?tags=orch:c1,x"))
              == std::vector<std::string>{"a"}));
  BOOST_TEST((names_of(send("GET", "/compute/v2.1/servers?tags-any=orch:c2,x"))
              == std::vector<std::string>{"c", "a"}));
  BOOST_TEST((names_of(send("GET", "/compute/v2.1/servers?not-tags=orch:c1"))
              == std::vector<std::string>{"c"}));
  // Below 2.26 tag filters are silently ignored.
  nova_version = "2.1";
  BOOST_TEST(names_of(send("GET", "/compute/v2.1/servers?tags=orch:c1,x")).size() == 3u);
}

BOOST_AUTO_TEST_CASE(tags_cannot_be_changed_while_building) {
  auto id = boot("web", net).str("/server/id");
  auto a = send("PUT", "/compute/v2.1/servers/" + id + "/tags", R"({"tags":["t"]})");
  BOOST_TEST(a.status() == 409);
  advance(2s);
  auto b = send("PUT", "/compute/v2.1/servers/" + id + "/tags", R"({"tags":["t","u"]})");
  BOOST_TEST(b.status() == 200);
  BOOST_TEST(b.at("/tags")->Size() == 2u);
  BOOST_TEST(send("PUT", "/compute/v2.1/servers/" + id + "/tags/v").status() == 201);
  BOOST_TEST(send("PUT", "/compute/v2.1/servers/" + id + "/tags/v").status() == 204);
  BOOST_TEST(send("GET", "/compute/v2.1/servers/" + id + "/tags/nope").status() == 404);
}

BOOST_AUTO_TEST_CASE(changes_since_includes_deleted_servers) {
  auto gone = boot_active("gone", net);
  auto mark = now;
  advance(1s);
  auto kept = boot_active("kept", net);
  send("DELETE", "/compute/v2.1/servers/" + gone);
  advance(1s);
  auto a = send("GET", "/compute/v2.1/servers/detail?changes-since=2027-01-15T08:00:00Z");
  (void)mark;
  std::map<std::string, std::string> status;
  for (auto& s : a.at("/servers")->GetArray())
    status[s["name"].GetString()] = s["status"].GetString();
  BOOST_TEST(status["kept"] == "ACTIVE");
  BOOST_TEST(status["gone"] == "DELETED");
  BOOST_TEST(send("GET", "/compute/v2.1/servers?changes-since=yesterday").status() == 400);
  // changes-before closes the window: "kept" last changed at +5s, "gone" was deleted at +6s.
  auto early = send("GET", "/compute/v2.1/servers?changes-since=2027-01-15T08:00:00Z"
                           "&changes-before=2027-01-15T08:00:05.500Z");
  BOOST_TEST((names_of(early) == std::vector<std::string>{"kept"}));
  auto late = send("GET", "/compute/v2.1/servers?changes-since=2027-01-15T08:00:05.500Z");
  BOOST_TEST((names_of(late) == std::vector<std::string>{"gone"}));
  BOOST_TEST(send("GET", "/compute/v2.1/servers?changes-since=2027-01-15T09:00:00Z"
                         "&changes-before=2027-01-15T08:00:00Z")
               .status()
             == 400);
}

BOOST_AUTO_TEST_CASE(pagination_links_to_the_next_page_whenever_one_is_full) {
  for (auto name : {"s1", "s2", "s3", "s4"}) boot(name, net);
  auto first = send("GET", "/compute/v2.1/servers?name=s&limit=2");
  BOOST_TEST((names_of(first) == std::vector<std::string>{"s4", "s3"}));
  auto next = first.str("/servers_links/0/href");
  BOOST_TEST(next
             == "http://sim.test:5000/compute/v2.1/servers?name=s&limit=2&marker="
                  + first.str("/servers/1/id"));
  auto second = send("GET", next.substr(std::string{"http://sim.test:5000"}.size()));
  BOOST_TEST((names_of(second) == std::vector<std::string>{"s2", "s1"}));
  // The page is full, so Nova links on even though nothing follows.
  auto third = send("GET", second.str("/servers_links/0/href").substr(20));
  BOOST_TEST(third.at("/servers")->Size() == 0u);
  BOOST_TEST(third.at("/servers_links") == nullptr);
  BOOST_TEST(send("GET", "/compute/v2.1/servers?marker=nope").status() == 400);
}

BOOST_AUTO_TEST_CASE(volume_attach_answers_200_before_2_101_and_202_after) {
  auto id = boot_active("web", net);
  auto vol = send("POST", "/volume/v3/" + project_id + "/volumes", R"({"volume":{"size":1}})")
               .str("/volume/id");
  advance(2s);
  auto a = send("POST", "/compute/v2.1/servers/" + id + "/os-volume_attachments",
                R"({"volumeAttachment":{"volumeId":")" + vol + "\"}}");
  BOOST_TEST(a.status() == 200);
  BOOST_TEST(a.str("/volumeAttachment/device") == "/dev/vdb");
  BOOST_TEST(a.str("/volumeAttachment/volumeId") == vol);
  advance(2s);
  auto v = send("GET", "/volume/v3/" + project_id + "/volumes/" + vol);
  BOOST_TEST(v.str("/volume/status") == "in-use");
  BOOST_TEST(v.str("/volume/attachments/0/server_id") == id);
  auto again = send("POST", "/compute/v2.1/servers/" + id + "/os-volume_attachments",
                    R"({"volumeAttachment":{"volumeId":")" + vol + "\"}}");
  BOOST_TEST(again.status() == 400);
  BOOST_TEST(
    send("DELETE", "/compute/v2.1/servers/" + id + "/os-volume_attachments/" + vol).status()
    == 202);
  advance(2s);
  BOOST_TEST(send("GET", "/volume/v3/" + project_id + "/volumes/" + vol).str("/volume/status")
             == "available");
  nova_version = "2.101";
  auto b = send("POST", "/compute/v2.1/servers/" + id + "/os-volume_attachments",
                R"({"volumeAttachment":{"volumeId":")" + vol + "\"}}");
  BOOST_TEST(b.status() == 202);
  BOOST_TEST(b.res.body.empty());
}

BOOST_AUTO_TEST_CASE(boot_from_volume_creates_an_attached_volume) {
  auto a = send(
    "POST", "/compute/v2.1/servers",
    R"({"server":{"name":"bfv","flavorRef":"1","networks":[{"uuid":")" + net
      + R"("}],"block_device_mapping_v2":[{"uuid":")" + image_id("cirros")
      + R"(","source_type":"image","destination_type":"volume","boot_index":0,"volume_size":"3","delete_on_termination":true}]}})");
  BOOST_REQUIRE_EQUAL(a.status(), 202);
  advance(2s);
  auto s = send("GET", "/compute/v2.1/servers/" + a.str("/server/id"));
  BOOST_TEST(s.str("/server/image") == "");
  auto vol = s.str("/server/os-extended-volumes:volumes_attached/0/id");
  auto v = send("GET", "/volume/v3/" + project_id + "/volumes/" + vol);
  BOOST_TEST(v.str("/volume/status") == "in-use");
  BOOST_TEST(v.at("/volume/size")->GetInt() == 3);
  send("DELETE", "/compute/v2.1/servers/" + a.str("/server/id"));
  advance(1s);
  BOOST_TEST(send("GET", "/volume/v3/" + project_id + "/volumes/" + vol).status() == 404);
}

BOOST_AUTO_TEST_CASE(flavors_list_m1_tiny_to_xlarge) {
  auto a = send("GET", "/compute/v2.1/flavors/detail");
  std::vector<std::string> names;
  for (auto& f : a.at("/flavors")->GetArray()) names.emplace_back(f["name"].GetString());
  BOOST_TEST(
    (names
     == std::vector<std::string>{"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"}));
  BOOST_TEST(send("GET", "/compute/v2.1/flavors/m1.tiny").status() == 404);
}

BOOST_AUTO_TEST_CASE(limits_report_usage) {
  boot("a", net, "3");
  auto a = send("GET", "/compute/v2.1/limits");
  BOOST_TEST(a.at("/limits/absolute/totalInstancesUsed")->GetInt() == 1);
  BOOST_TEST(a.at("/limits/absolute/totalCoresUsed")->GetInt() == 2);
  BOOST_TEST(a.at("/limits/absolute/maxTotalInstances")->GetInt() == 10);
}

BOOST_AUTO_TEST_CASE(key_name_must_name_an_existing_keypair) {
  auto missing = boot("web", net, "1", R"(,"key_name":"mykey")");
  BOOST_TEST(missing.status() == 400);
  BOOST_TEST(missing.str("/badRequest/message") == "Invalid key_name provided.");
  auto k = send("POST", "/compute/v2.1/os-keypairs",
                R"({"keypair":{"name":"mykey","public_key":"ssh-ed25519 AAAAC3Nz test"}})");
  BOOST_TEST(k.status() == 201);
  BOOST_TEST(k.str("/keypair/type") == "ssh");
  BOOST_TEST(k.at("/keypair/private_key") == nullptr);
  auto again = send("POST", "/compute/v2.1/os-keypairs",
                    R"({"keypair":{"name":"mykey","public_key":"ssh-ed25519 AAAAC3Nz test"}})");
  BOOST_TEST(again.status() == 409);
  auto s = boot("web", net, "1", R"(,"key_name":"mykey")");
  BOOST_TEST(s.status() == 202);
  BOOST_TEST(send("GET", "/compute/v2.1/servers/" + s.str("/server/id")).str("/server/key_name")
             == "mykey");
  BOOST_TEST(send("GET", "/compute/v2.1/os-keypairs").at("/keypairs")->Size() == 1u);
  BOOST_TEST(send("DELETE", "/compute/v2.1/os-keypairs/mykey").status() == 204);
  BOOST_TEST(send("GET", "/compute/v2.1/os-keypairs/mykey").status() == 404);
}

BOOST_AUTO_TEST_CASE(generated_keys_come_with_a_private_key_before_2_92) {
  auto k = send("POST", "/compute/v2.1/os-keypairs", R"({"keypair":{"name":"gen"}})");
  BOOST_TEST(k.status() == 201);
  BOOST_TEST(k.str("/keypair/private_key").starts_with("-----BEGIN RSA PRIVATE KEY-----"));
  nova_version = "2.92";
  BOOST_TEST(send("POST", "/compute/v2.1/os-keypairs", R"({"keypair":{"name":"gen2"}})").status()
             == 400);
}

BOOST_AUTO_TEST_SUITE_END()
