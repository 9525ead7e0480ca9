#include "orch/deployment/events.hpp"

#include <boost/test/unit_test.hpp>

#include "fsm_driver.hpp"

using namespace orch;
using orch::testing::pending_record;
using orch::testing::tick;

namespace {

deployment_event at(int n, event_data data) {
  return deployment_event{0, tick(n), std::move(data)};
}

resource_created server(const std::string& suffix, const std::string& id) {
  resource_created ev;
  ev.kind = resource_kind::server;
  ev.logical_name = "vm:" + suffix;
  ev.cloud_name = "my-app-" + suffix;
  ev.id = id;
  ev.group = "app";
  ev.index = 1;
  ev.status = "BUILD";
  return ev;
}

resource_created volume(const std::string& suffix, const std::string& id, const std::string& vm) {
  resource_created ev;
  ev.kind = resource_kind::volume;
  ev.logical_name = "volume:" + suffix;
  ev.cloud_name = "my-app-" + suffix;
  ev.id = id;
  ev.vm = vm;
  ev.size_gb = 20;
  return ev;
}

} // namespace

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(event_types_use_the_history_names) {
  BOOST_TEST(event_type(status_changed{}) == "status_changed");
  BOOST_TEST(event_type(intent_recorded{}) == "intent");
  BOOST_TEST(event_type(retry_scheduled{}) == "retry");
  BOOST_TEST(event_type(error_reported{}) == "error");
  BOOST_TEST(event_type(resource_deleted{}) == "resource_deleted");
  BOOST_TEST(event_type(desired_changed{}) == "desired_changed");
  BOOST_TEST(event_type(resource_changed{}) == "resource_changed");
}

BOOST_AUTO_TEST_CASE(a_resize_intent_marks_the_server_and_its_change_records_the_flavor) {
  auto st = pending_record();
  apply(st, at(1, server("web-1", "s1")));
  auto before = st.resources.vms.at(0);
  apply(st, at(2, intent_recorded{
                    intent_action::resize, resource_kind::server, "vm:web-1", "my-app-web-1", {}}));
  BOOST_TEST(st.resources.vms.at(0).status == "RESIZE");
  BOOST_TEST(st.resources.vms.at(0).flavor == before.flavor);
  BOOST_TEST(st.intents.empty()); // only creates stay open as intents
  apply(st, at(3, resource_changed{
                    resource_kind::server, "vm:web-1", "ACTIVE", "m1.xlarge", before.image, {}}));
  const auto& vm = st.resources.vms.at(0);
  BOOST_TEST(vm.status == "ACTIVE");
  BOOST_TEST(vm.flavor == "m1.xlarge");
  BOOST_TEST(vm.addresses == before.addresses); // none reported: the recorded ones stay
  BOOST_TEST(to_string(intent_action::rebuild) == "rebuild");
  BOOST_TEST((parse_intent_action("resize") == intent_action::resize));
}

BOOST_AUTO_TEST_CASE(vm_intents_and_creates_raise_the_high_water_mark_deletes_do_not) {
  auto st = pending_record();
  apply(st, at(1, intent_recorded{
                    intent_action::create, resource_kind::server, "vm:app-2", "my-app-app-2", {}}));
  BOOST_TEST(st.vm_high_water.at("app") == 2);
  auto made = server("app-1", "s1");
  apply(st, at(2, made));
  BOOST_TEST(st.vm_high_water.at("app") == 2);
  apply(st, at(3, resource_deleted{resource_kind::server, "vm:app-2", {}}));
  BOOST_TEST(st.vm_high_water.at("app") == 2);
  made = server("app-7", "s7");
  made.index = 7;
  apply(st, at(4, made));
  BOOST_TEST(st.vm_high_water.at("app") == 7);
}

BOOST_AUTO_TEST_CASE(a_create_intent_stays_open_until_its_resource_is_recorded) {
  auto st = pending_record();
  intent_recorded intent{intent_action::create,
                         resource_kind::server,
                         "vm:app-1",
                         "my-app-app-1",
                         {"orch-resource=vm:app-1"}};
  apply(st, at(1, intent));
  apply(st, at(2, intent));
  BOOST_REQUIRE_EQUAL(st.intents.size(), 1u);
  BOOST_TEST(find_intent(st, resource_kind::server, "vm:app-1") != nullptr);
  apply(st, at(3, server("app-1", "s1")));
  BOOST_TEST(st.intents.empty());
  BOOST_TEST(st.resources.vms.at(0).id == "s1");
  BOOST_TEST((st.updated_at == tick(3)));
}

BOOST_AUTO_TEST_CASE(delete_intents_are_audit_only) {
  auto st = pending_record();
  apply(st, at(1, intent_recorded{
                    intent_action::remove, resource_kind::network, "network", "my-app-net", {}}));
  BOOST_TEST(st.intents.empty());
}

BOOST_AUTO_TEST_CASE(attachments_link_volumes_and_vms_both_ways) {
  auto st = pending_record();
  apply(st, at(1, server("app-1", "s1")));
  apply(st, at(2, volume("app-1-vol1", "v1", "my-app-app-1")));
  resource_created attach;
  attach.kind = resource_kind::volume_attachment;
  attach.logical_name = "attachment:app-1-vol1";
  apply(st, at(3, attach));
  BOOST_TEST(st.resources.volumes.at(0).attached);
  BOOST_TEST(st.resources.vms.at(0).volume_ids == std::vector<std::string>{"v1"});
  apply(st, at(4, resource_deleted{resource_kind::volume_attachment, "attachment:app-1-vol1", ""}));
  BOOST_TEST(!st.resources.volumes.at(0).attached);
  BOOST_TEST(st.resources.vms.at(0).volume_ids.empty());
  apply(st, at(5, resource_deleted{resource_kind::volume, "volume:app-1-vol1", "v1"}));
  apply(st, at(6, resource_deleted{resource_kind::server, "vm:app-1", "s1"}));
  BOOST_TEST(st.resources.volumes.empty());
  BOOST_TEST(st.resources.vms.empty());
}

BOOST_AUTO_TEST_CASE(network_resources_fold_in_and_out) {
  auto st = pending_record();
  apply(st, at(1, testing::made(resource_kind::network, "network", "my-app-net", "n1")));
  apply(st, at(2, testing::made(resource_kind::subnet, "subnet:web", "my-app-web", "s1")));
  apply(st, at(3, testing::made(resource_kind::router, "router", "my-app-router", "r1")));
  apply(st, at(4, testing::made(resource_kind::router_gateway, "router-gateway", "", "")));
  apply(st,
        at(5, testing::made(resource_kind::router_interface, "router-interface:web", "", "p1")));
  BOOST_TEST(st.resources.network_id == "n1");
  BOOST_TEST(st.resources.subnet_ids.at("web") == "s1");
  BOOST_TEST(st.resources.router_id == "r1");
  BOOST_TEST(st.resources.router_gateway);
  BOOST_TEST(st.resources.router_interfaces == std::vector<std::string>{"web"});
  apply(st, at(6, resource_deleted{resource_kind::router_interface, "router-interface:web", ""}));
  apply(st, at(7, resource_deleted{resource_kind::router_gateway, "router-gateway", ""}));
  apply(st, at(8, resource_deleted{resource_kind::router, "router", "r1"}));
  apply(st, at(9, resource_deleted{resource_kind::subnet, "subnet:web", "s1"}));
  apply(st, at(10, resource_deleted{resource_kind::network, "network", "n1"}));
  BOOST_TEST((st.resources == deployment_resources{}));
}

BOOST_AUTO_TEST_CASE(operations_and_statuses_take_their_times_from_the_events) {
  auto st = pending_record();
  apply(st, at(1, operation_started{operation_type::remove}));
  apply(st, at(2, status_changed{deployment_status::pending, deployment_status::deleting}));
  apply(st, at(3, operation_finished{operation_status::succeeded, std::nullopt}));
  apply(st, at(3, status_changed{deployment_status::deleting, deployment_status::deleted}));
  BOOST_TEST((st.operation->started_at == tick(1)));
  BOOST_TEST((*st.operation->finished_at == tick(3)));
  BOOST_TEST(st.status == deployment_status::deleted);
  BOOST_TEST((*st.deleted_at == tick(3)));
}

BOOST_AUTO_TEST_CASE(audit_events_change_only_updated_at) {
  auto st = pending_record();
  auto before = st;
  apply(st, at(7, retry_scheduled{"my-app-net", 2, "503", 400}));
  apply(st, at(8, error_reported{{"timeout", "slow", "my-app-net"}}));
  before.updated_at = tick(8);
  BOOST_TEST((st == before));
}

BOOST_AUTO_TEST_CASE(snapshots_follow_status_changes_and_every_nth_event) {
  std::vector<deployment_event> quiet{at(1, retry_scheduled{}), at(2, error_reported{})};
  BOOST_TEST(!needs_snapshot(quiet, 0, 50));
  BOOST_TEST(!needs_snapshot(quiet, 47, 50));
  BOOST_TEST(needs_snapshot(quiet, 48, 50));
  quiet.push_back(
    at(3, status_changed{deployment_status::in_progress, deployment_status::completed}));
  BOOST_TEST(needs_snapshot(quiet, 0, 50));
  BOOST_TEST(!needs_snapshot({}, 0, 50));
}

BOOST_AUTO_TEST_SUITE_END()
