#include "orch/deployment/deployment_fsm.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fsm_driver.hpp"
#include "orch/errc.hpp"

using namespace orch;
using orch::testing::cloud_id;
using orch::testing::fsm_driver;
using orch::testing::pending_record;
using orch::testing::recorded;
using orch::testing::tick;

namespace {

using commands = std::vector<deployment_command>;

commands actions(const commands& cmds) {
  commands out;
  std::copy_if(cmds.begin(), cmds.end(), std::back_inserter(out),
               [](auto& cmd) { return !testing::is_record(cmd); });
  return out;
}

std::vector<std::string> logical_names(const commands& cmds) {
  std::vector<std::string> out;
  for (auto& cmd : actions(cmds)) out.push_back(logical_name_of(cmd));
  return out;
}

commands must_apply(deployment_fsm& uut, const input_event& ev) {
  auto res = uut.apply(ev);
  if (!res) BOOST_FAIL("apply failed: " << error_detail(res.error()));
  return *res;
}

template <class T>
bool all_are(const commands& cmds) {
  auto xs = actions(cmds);
  return !xs.empty()
         && std::all_of(xs.begin(), xs.end(), [](auto& x) { return std::holds_alternative<T>(x); });
}

create_result created(resource_kind kind, const std::string& logical, int n) {
  return create_result{kind, logical, cloud_id(logical), tick(n)};
}

// Answers every command of `cmds` with success and returns what the machine emits in reply.
commands answer_all(fsm_driver& drv, const commands& cmds) {
  commands out;
  for (auto& cmd : actions(cmds)) {
    auto next = must_apply(drv.uut, drv.answer(cmd));
    out.insert(out.end(), next.begin(), next.end());
  }
  return out;
}

// The number of answers a full deploy of the 3-tier template takes.
int deploy_answer_count() {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  return drv.answers;
}

bool is_empty(const deployment_resources& res) {
  return res.network_id.empty() && res.subnet_ids.empty() && res.router_id.empty()
         && !res.router_gateway && res.router_interfaces.empty() && res.vms.empty()
         && res.volumes.empty();
}

} // namespace

BOOST_AUTO_TEST_SUITE(deployment_fsm)

BOOST_AUTO_TEST_CASE(deploy_starts_with_the_operation_status_and_the_network_intent) {
  orch::deployment_fsm uut{pending_record()};
  auto cmds = must_apply(uut, start_deploy{tick(0)});
  BOOST_REQUIRE_EQUAL(cmds.size(), 4u);
  BOOST_TEST(recorded<operation_started>(cmds[0])->type == operation_type::deploy);
  BOOST_TEST(recorded<status_changed>(cmds[1])->to == deployment_status::in_progress);
  auto intent = recorded<intent_recorded>(cmds[2]);
  BOOST_REQUIRE(intent != nullptr);
  BOOST_TEST(intent->action == intent_action::create);
  BOOST_TEST(intent->cloud_name == "my-app-net");
  auto net = std::get_if<create_network>(&cmds[3]);
  BOOST_REQUIRE(net != nullptr);
  BOOST_TEST(net->spec.name == "my-app-net");
  BOOST_TEST(net->tags
             == (std::vector<std::string>{"orch-deployment=6f1c2a3b-0000-4000-8000-000000000001",
                                          "orch-resource=network"}));
  BOOST_TEST(uut.state().status == deployment_status::in_progress);
  BOOST_TEST((uut.state().operation->started_at == tick(0)));
}

BOOST_AUTO_TEST_CASE(happy_path_deploys_the_three_tier_template_stage_by_stage) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  auto network = commands(drv.queue.begin(), drv.queue.end());
  drv.queue.clear();
  // Network -> three subnets, each announced by an intent first.
  auto subnets = answer_all(drv, network);
  BOOST_TEST(recorded<resource_created>(subnets[0])->id == "id-network");
  BOOST_TEST(all_are<create_subnet>(subnets));
  BOOST_TEST(logical_names(subnets)
             == (std::vector<std::string>{"subnet:web", "subnet:app", "subnet:db"}));
  auto web = std::get<create_subnet>(actions(subnets)[0]);
  BOOST_TEST(web.spec.network_id == "id-network");
  BOOST_TEST(web.spec.cidr == "10.0.1.0/24");
  BOOST_TEST(web.spec.name == "my-app-web");
  // Subnets -> router once all three are recorded.
  auto router = answer_all(drv, subnets);
  BOOST_TEST(all_are<create_router>(router));
  BOOST_TEST(std::get<create_router>(actions(router)[0]).spec.name == "my-app-router");
  // Router -> gateway and one interface per subnet, in parallel.
  auto links = answer_all(drv, router);
  BOOST_TEST(logical_names(links)
             == (std::vector<std::string>{"router-gateway", "router-interface:web",
                                          "router-interface:app", "router-interface:db"}));
  BOOST_TEST(std::get<set_router_gateway>(actions(links)[0]).external_network == "public");
  BOOST_TEST(std::get<add_router_interface>(actions(links)[2]).subnet_id == "id-subnet:app");
  // Links -> six servers and three volumes at once.
  auto machines = answer_all(drv, links);
  BOOST_TEST(logical_names(machines)
             == (std::vector<std::string>{"vm:web-1", "vm:web-2", "vm:app-1", "vm:app-2",
                                          "vm:app-3", "vm:db-1", "volume:app-1-vol1",
                                          "volume:app-2-vol1", "volume:app-3-vol1"}));
  auto app1 = std::get<create_server>(actions(machines)[2]);
  BOOST_TEST(app1.spec.name == "my-app-app-1");
  BOOST_TEST(app1.spec.flavor_ref == "m1.medium");
  BOOST_TEST(app1.subnet_id == "id-subnet:app");
  BOOST_TEST(app1.spec.metadata.at("orch-resource") == "vm:app-1");
  auto vol = std::get<create_volume>(actions(machines)[6]);
  BOOST_TEST(vol.spec.name == "my-app-app-1-vol1");
  BOOST_TEST(vol.spec.size_gb == 20);
  // Each create answered -> a wait for it.
  auto waits = answer_all(drv, machines);
  BOOST_TEST(actions(waits).size() == 9u);
  // Waits answered -> one attachment per volume, then COMPLETED.
  auto attachments = answer_all(drv, waits);
  BOOST_TEST(all_are<attach_volume>(attachments));
  BOOST_TEST(std::get<attach_volume>(actions(attachments)[0]).server_id == "id-vm:app-1");
  auto last = answer_all(drv, attachments);
  BOOST_TEST(actions(last).empty());
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::completed);
  BOOST_TEST(st.operation->status == operation_status::succeeded);
  BOOST_TEST(st.resources.vms.size() == 6u);
  BOOST_TEST(st.resources.subnet_ids.size() == 3u);
  BOOST_TEST(st.resources.router_gateway);
  BOOST_TEST(st.resources.router_interfaces.size() == 3u);
  BOOST_TEST(st.intents.empty());
  for (auto& v : st.resources.volumes) BOOST_TEST(v.attached);
  auto app_vm = std::find_if(st.resources.vms.begin(), st.resources.vms.end(),
                             [](auto& vm) { return vm.name == "my-app-app-2"; });
  BOOST_TEST(app_vm->volume_ids == std::vector<std::string>{"id-volume:app-2-vol1"});
  BOOST_TEST(app_vm->status == "ACTIVE");
}

BOOST_AUTO_TEST_CASE(the_state_is_the_fold_of_the_recorded_events) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  BOOST_TEST(drv.uut.state().status == deployment_status::completed);
  BOOST_TEST((fold(drv.initial, drv.events) == drv.uut.state()));
}

BOOST_AUTO_TEST_CASE(without_router_servers_follow_the_subnets_and_use_the_first_subnet) {
  auto spec = testing::three_tier();
  spec.network_config.router = false;
  spec.network_config.subnets = {{"front", "10.0.1.0/24"}, {"db", "10.0.3.0/24"}};
  fsm_driver drv{pending_record(spec)};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  BOOST_TEST(drv.uut.state().status == deployment_status::completed);
  BOOST_TEST(drv.uut.state().resources.router_id.empty());
  for (auto& cmd : drv.log)
    if (auto server = std::get_if<create_server>(&cmd))
      BOOST_TEST(server->subnet_id
                 == (server->logical_name == "vm:db-1" ? "id-subnet:db" : "id-subnet:front"));
}

BOOST_AUTO_TEST_CASE(each_failing_step_fails_the_deployment_and_keeps_what_was_created) {
  auto total = deploy_answer_count();
  BOOST_REQUIRE_GT(total, 20);
  for (int n = 0; n < total; ++n) {
    BOOST_TEST_CONTEXT("failing answer " << n) {
      fsm_driver drv{pending_record()};
      drv.fail_at = n;
      drv.feed(start_deploy{tick(0)});
      drv.run();
      const auto& st = drv.uut.state();
      BOOST_TEST(st.status == deployment_status::failed);
      BOOST_TEST(st.operation->status == operation_status::failed);
      BOOST_REQUIRE(st.operation->error.has_value());
      BOOST_TEST(st.operation->error->code == "quota_exceeded");
      BOOST_TEST(!st.operation->error->resource.empty());
      // Every create the cloud answered is recorded, even those answered after the failure.
      int recorded_creates = 0;
      for (auto& ev : drv.events)
        if (std::holds_alternative<resource_created>(ev.data)) ++recorded_creates;
      int answered_creates = 0;
      for (auto& [name, count] : drv.creates) answered_creates += count;
      BOOST_TEST(recorded_creates == answered_creates);
      BOOST_TEST((fold(drv.initial, drv.events) == st));
    }
  }
}

BOOST_AUTO_TEST_CASE(delete_from_every_intermediate_state_removes_everything) {
  auto total = deploy_answer_count();
  for (int n = 0; n <= total; ++n) {
    BOOST_TEST_CONTEXT("delete after " << n << " answers") {
      fsm_driver drv{pending_record()};
      drv.feed(start_deploy{tick(0)});
      drv.run(n);
      drv.feed(start_delete{tick(1000)});
      drv.run();
      const auto& st = drv.uut.state();
      BOOST_TEST(st.status == deployment_status::deleted);
      BOOST_TEST(st.deleted_at.has_value());
      BOOST_TEST(is_empty(st.resources));
      BOOST_TEST(st.intents.empty());
      BOOST_TEST(st.operation->type == operation_type::remove);
      BOOST_TEST(st.operation->status == operation_status::succeeded);
      BOOST_TEST((fold(drv.initial, drv.events) == st));
    }
  }
}

BOOST_AUTO_TEST_CASE(delete_from_every_failed_state_removes_everything) {
  auto total = deploy_answer_count();
  for (int n = 0; n < total; ++n) {
    BOOST_TEST_CONTEXT("deploy failed at answer " << n) {
      fsm_driver drv{pending_record()};
      drv.fail_at = n;
      drv.feed(start_deploy{tick(0)});
      drv.run();
      drv.fail_at.reset();
      drv.feed(start_delete{tick(1000)});
      drv.run();
      BOOST_TEST(drv.uut.state().status == deployment_status::deleted);
      BOOST_TEST(is_empty(drv.uut.state().resources));
      BOOST_TEST(drv.uut.state().intents.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(delete_runs_in_reverse_dependency_order) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  drv.log.clear();
  drv.feed(start_delete{tick(1000)});
  drv.run();
  std::vector<std::string> order;
  for (auto& cmd : actions(drv.log)) order.push_back(logical_name_of(cmd));
  auto pos = [&](const std::string& name) {
    return std::find(order.begin(), order.end(), name) - order.begin();
  };
  BOOST_TEST(pos("attachment:app-1-vol1") < pos("volume:app-1-vol1"));
  BOOST_TEST(pos("attachment:app-3-vol1") < pos("vm:web-1"));
  BOOST_TEST(pos("vm:db-1") < pos("router-interface:db"));
  BOOST_TEST(pos("volume:app-3-vol1") < pos("router-interface:web"));
  BOOST_TEST(pos("router-interface:db") < pos("router"));
  BOOST_TEST(pos("router-gateway") < pos("router"));
  BOOST_TEST(pos("router") < pos("subnet:web"));
  BOOST_TEST(pos("subnet:db") < pos("network"));
  BOOST_TEST(pos("network") == static_cast<long>(order.size()) - 1);
  BOOST_TEST(drv.uut.state().status == deployment_status::deleted);
}

BOOST_AUTO_TEST_CASE(a_failing_delete_step_fails_the_deployment) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  drv.fail_at = drv.answers + 4;
  drv.feed(start_delete{tick(1000)});
  drv.run();
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::failed);
  BOOST_TEST(st.operation->type == operation_type::remove);
  BOOST_TEST(st.operation->error->code == "quota_exceeded");
}

BOOST_AUTO_TEST_CASE(delete_waits_for_router_links_in_flight_before_the_router) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run(5); // network, three subnets, router: gateway and interfaces now in flight
  BOOST_REQUIRE_EQUAL(drv.queue.size(), 4u);
  auto cmds = must_apply(drv.uut, start_delete{tick(50)});
  BOOST_TEST(actions(cmds).empty());
  drv.run();
  BOOST_TEST(drv.uut.state().status == deployment_status::deleted);
  BOOST_TEST(is_empty(drv.uut.state().resources));
}

BOOST_AUTO_TEST_CASE(delete_cancels_a_running_deploy_first) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run(3);
  auto cmds = must_apply(drv.uut, start_delete{tick(50)});
  auto finished = recorded<operation_finished>(cmds.at(0));
  BOOST_REQUIRE(finished != nullptr);
  BOOST_TEST(finished->status == operation_status::cancelled);
  BOOST_TEST(recorded<operation_started>(cmds.at(1))->type == operation_type::remove);
}

BOOST_AUTO_TEST_CASE(a_restarted_machine_looks_up_open_intents_and_records_found_ones) {
  auto total = deploy_answer_count();
  for (int n = 1; n < total; n += 3) {
    BOOST_TEST_CONTEXT("restart after " << n << " answers") {
      fsm_driver first{pending_record()};
      first.feed(start_deploy{tick(0)});
      first.run(n);
      auto open = first.uut.state().intents;
      fsm_driver second{first.uut.state()};
      second.feed(resume{tick(500)});
      auto lookups = actions(second.log);
      for (auto& intent : open)
        BOOST_TEST(std::count_if(lookups.begin(), lookups.end(),
                                 [&](auto& cmd) {
                                   auto find = std::get_if<find_by_tag>(&cmd);
                                   return find != nullptr
                                          && find->logical_name == intent.logical_name
                                          && find->tags == intent.tags;
                                 })
                   == 1);
      second.run();
      BOOST_TEST(second.uut.state().status == deployment_status::completed);
      // Found resources are recorded, never created a second time.
      for (auto& intent : open) BOOST_TEST(second.creates.count(intent.logical_name) == 0u);
      for (auto& [name, count] : second.creates) BOOST_TEST(first.creates.count(name) == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_restarted_machine_creates_what_its_lookups_do_not_find) {
  fsm_driver first{pending_record()};
  first.feed(start_deploy{tick(0)});
  first.run(1); // network recorded, three subnet creates in flight
  BOOST_REQUIRE_EQUAL(first.uut.state().intents.size(), 3u);
  fsm_driver second{first.uut.state()};
  second.missing = {"subnet:app"};
  second.feed(resume{tick(500)});
  BOOST_TEST(all_are<find_by_tag>(second.log));
  second.run(4); // three lookups, then the create of the missing subnet
  BOOST_TEST(second.creates.count("subnet:app") == 1u);
  BOOST_TEST(second.creates.count("subnet:web") == 0u);
  // The create reuses the open intent instead of recording a second one.
  int intents = 0;
  for (auto& ev : second.events)
    if (std::holds_alternative<intent_recorded>(ev.data)) ++intents;
  BOOST_TEST(intents == 1); // the router's
  second.run();
  BOOST_TEST(second.uut.state().status == deployment_status::completed);
}

BOOST_AUTO_TEST_CASE(a_restarted_delete_closes_intents_that_created_nothing) {
  fsm_driver first{pending_record()};
  first.feed(start_deploy{tick(0)});
  first.run(1);
  first.feed(start_delete{tick(10)});
  first.queue.clear(); // the node dies with every command in flight
  fsm_driver second{first.uut.state()};
  second.missing = {"subnet:web", "subnet:app", "subnet:db"};
  second.feed(resume{tick(500)});
  second.run();
  BOOST_TEST(second.uut.state().status == deployment_status::deleted);
  BOOST_TEST(second.uut.state().intents.empty());
}

BOOST_AUTO_TEST_CASE(resume_of_a_finished_deployment_does_nothing) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  orch::deployment_fsm again{drv.uut.state()};
  BOOST_TEST(must_apply(again, resume{tick(9)}).empty());
}

BOOST_AUTO_TEST_CASE(duplicate_results_change_nothing) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  auto net = created(resource_kind::network, "network", 1);
  drv.queue.clear();
  drv.feed(net);
  auto before = drv.uut.state();
  BOOST_TEST(must_apply(drv.uut, net).empty());
  BOOST_TEST((drv.uut.state() == before));
  drv.run();
  BOOST_REQUIRE(drv.uut.state().status == deployment_status::completed);
  auto done = drv.uut.state();
  BOOST_TEST(
    must_apply(drv.uut, ready_result{resource_kind::server, "vm:web-1", "ACTIVE", {}, tick(99)})
      .empty());
  BOOST_TEST(
    must_apply(drv.uut, created(resource_kind::volume_attachment, "attachment:app-1-vol1", 99))
      .empty());
  BOOST_TEST((drv.uut.state() == done));
  drv.feed(start_delete{tick(100)});
  drv.run();
  auto deleted = drv.uut.state();
  BOOST_TEST(
    must_apply(drv.uut, gone_result{resource_kind::server, "vm:web-1", tick(200)}).empty());
  BOOST_TEST((drv.uut.state() == deleted));
}

BOOST_AUTO_TEST_CASE(illegal_inputs_are_refused_without_changing_the_state) {
  fsm_driver drv{pending_record()};
  auto expect_error = [&](const input_event& ev, errc code) {
    auto before = drv.uut.state();
    auto res = drv.uut.apply(ev);
    BOOST_REQUIRE(!res);
    BOOST_TEST(is(res.error(), code), error_detail(res.error()));
    BOOST_TEST((drv.uut.state() == before));
  };
  // Results nobody asked for.
  expect_error(created(resource_kind::network, "network", 1), errc::conflict);
  expect_error(created(resource_kind::server, "vm:nope-1", 1), errc::not_found);
  expect_error(created(resource_kind::subnet, "network", 1), errc::not_found);
  expect_error(step_failed{resource_kind::network, "network", "x", "y", tick(1)}, errc::conflict);
  expect_error(lookup_result{resource_kind::network, "network", "n", tick(1)}, errc::conflict);
  expect_error(gone_result{resource_kind::server, "vm:ghost-9", tick(1)}, errc::not_found);
  drv.feed(start_deploy{tick(0)});
  expect_error(start_deploy{tick(1)}, errc::conflict);
  drv.run(1);
  // A second create answer with another id.
  expect_error(create_result{resource_kind::network, "network", "other", tick(2)}, errc::conflict);
  drv.run();
  expect_error(start_deploy{tick(3)}, errc::conflict);
  drv.feed(start_delete{tick(4)});
  expect_error(start_delete{tick(5)}, errc::conflict);
  expect_error(start_deploy{tick(5)}, errc::conflict);
  drv.run();
  BOOST_TEST(drv.uut.state().status == deployment_status::deleted);
  expect_error(start_delete{tick(6)}, errc::not_found);
  expect_error(start_deploy{tick(6)}, errc::conflict);
}

BOOST_AUTO_TEST_CASE(deleting_a_pending_deployment_goes_straight_to_deleted) {
  orch::deployment_fsm uut{pending_record()};
  auto cmds = must_apply(uut, start_delete{tick(1)});
  BOOST_TEST(actions(cmds).empty());
  BOOST_TEST(uut.state().status == deployment_status::deleted);
  BOOST_TEST((*uut.state().deleted_at == tick(1)));
}

// -- update and scale -----------------------------------------------------------------------

namespace {

template_spec with_count(template_spec spec, const std::string& group, int count) {
  for (auto& [name, g] : spec.vm_config)
    if (name == group) g.count = count;
  return spec;
}

start_update scale_to(const deployment_record& rec, const std::string& group, int count, int at) {
  auto params = rec.parameters;
  params[group + "_count"] = int64_t{count};
  return start_update{operation_type::scale, params, with_count(rec.spec, group, count), tick(at)};
}

// A driver whose machine has deployed the 3-tier template to COMPLETED.
fsm_driver deployed_driver() {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  BOOST_REQUIRE(drv.uut.state().status == deployment_status::completed);
  return drv;
}

std::vector<std::string> vm_names(const deployment_record& rec, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& vm : rec.resources.vms)
    if (vm.group == group) out.push_back(vm.name);
  std::sort(out.begin(), out.end());
  return out;
}

// The answers of a scale of the deployed 3-tier template: `app` from 3 to `count`.
int scale_answer_count(int count) {
  auto drv = deployed_driver();
  auto before = drv.answers;
  drv.feed(scale_to(drv.uut.state(), "app", count, 2000));
  drv.run();
  return drv.answers - before;
}

} // namespace

BOOST_AUTO_TEST_CASE(scale_out_records_the_desired_state_first_then_creates_new_vms) {
  auto drv = deployed_driver();
  auto cmds = must_apply(drv.uut, scale_to(drv.uut.state(), "web", 4, 2000));
  auto desired = recorded<desired_changed>(cmds.at(0));
  BOOST_REQUIRE(desired != nullptr);
  BOOST_TEST(desired->generation == 1);
  BOOST_TEST(recorded<operation_started>(cmds.at(1))->type == operation_type::scale);
  BOOST_TEST(recorded<status_changed>(cmds.at(2))->to == deployment_status::scaling);
  BOOST_TEST(logical_names(cmds) == (std::vector<std::string>{"vm:web-3", "vm:web-4"}));
  for (auto& cmd : actions(cmds)) drv.queue.push_back(cmd);
  drv.run();
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::completed);
  BOOST_TEST(st.generation == 1);
  BOOST_TEST(st.operation->type == operation_type::scale);
  BOOST_TEST(
    vm_names(st, "web")
    == (std::vector<std::string>{"my-app-web-1", "my-app-web-2", "my-app-web-3", "my-app-web-4"}));
  BOOST_TEST(plan_changes(st).empty());
}

BOOST_AUTO_TEST_CASE(scale_in_detaches_and_deletes_volumes_before_their_servers) {
  auto drv = deployed_driver();
  drv.log.clear();
  drv.feed(scale_to(drv.uut.state(), "app", 1, 2000));
  drv.run();
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::completed);
  BOOST_TEST(vm_names(st, "app") == (std::vector<std::string>{"my-app-app-1"}));
  BOOST_TEST(st.resources.volumes.size() == 1u);
  BOOST_TEST(st.resources.volumes.front().attached);
  BOOST_TEST(st.intents.empty());
  auto steps = logical_names(drv.log);
  auto at = [&](const std::string& name) {
    return std::find(steps.begin(), steps.end(), name) - steps.begin();
  };
  for (std::string n : {"2", "3"}) {
    BOOST_TEST(at("attachment:app-" + n + "-vol1") < at("volume:app-" + n + "-vol1"));
    BOOST_TEST(at("volume:app-" + n + "-vol1") < at("vm:app-" + n));
    BOOST_TEST(at("vm:app-" + n) < static_cast<long>(steps.size()));
  }
  // Only what was removed was touched.
  for (const auto& name : steps)
    BOOST_TEST(
      (name.find("app-2") != std::string::npos || name.find("app-3") != std::string::npos));
  BOOST_TEST((fold(drv.initial, drv.events) == st));
}

BOOST_AUTO_TEST_CASE(scale_in_then_out_never_reuses_a_name) {
  auto drv = deployed_driver();
  drv.feed(scale_to(drv.uut.state(), "app", 1, 2000));
  drv.run();
  drv.feed(scale_to(drv.uut.state(), "app", 3, 3000));
  drv.run();
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::completed);
  BOOST_TEST(st.generation == 2);
  BOOST_TEST(vm_names(st, "app")
             == (std::vector<std::string>{"my-app-app-1", "my-app-app-4", "my-app-app-5"}));
  BOOST_TEST(st.resources.volumes.size() == 3u);
  BOOST_TEST(st.vm_high_water.at("app") == 5);
  BOOST_TEST((fold(drv.initial, drv.events) == st));
}

BOOST_AUTO_TEST_CASE(an_update_of_a_busy_deployment_is_refused_naming_the_operation) {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run(3);
  auto before = drv.uut.state();
  auto res = drv.uut.apply(scale_to(before, "web", 4, 100));
  BOOST_REQUIRE(!res);
  BOOST_TEST(is(res.error(), errc::conflict));
  BOOST_TEST(error_detail(res.error()).find("'deploy'") != std::string::npos);
  BOOST_TEST((drv.uut.state() == before));
}

BOOST_AUTO_TEST_CASE(delete_during_a_scale_out_removes_everything) {
  auto total = scale_answer_count(3) + scale_answer_count(6);
  for (int n = 0; n <= total; n += 2) {
    BOOST_TEST_CONTEXT("delete after " << n << " answers of the scale") {
      auto drv = deployed_driver();
      drv.feed(scale_to(drv.uut.state(), "app", 6, 2000));
      drv.run(n);
      drv.feed(start_delete{tick(5000)});
      drv.run();
      const auto& st = drv.uut.state();
      BOOST_TEST(st.status == deployment_status::deleted);
      BOOST_TEST(is_empty(st.resources));
      BOOST_TEST(st.intents.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failed_scale_leaves_an_accurate_record_and_a_later_scale_finishes) {
  auto total = scale_answer_count(6);
  BOOST_REQUIRE_GT(total, 6);
  for (int n = 0; n < total; ++n) {
    BOOST_TEST_CONTEXT("failing answer " << n << " of the scale") {
      auto drv = deployed_driver();
      drv.fail_at = drv.answers + n;
      drv.feed(scale_to(drv.uut.state(), "app", 6, 2000));
      drv.run();
      auto st = drv.uut.state();
      BOOST_TEST(st.status == deployment_status::failed);
      BOOST_TEST((fold(drv.initial, drv.events) == st));
      // The next operation, on a machine rebuilt from storage, works from there.
      fsm_driver again{st};
      again.feed(scale_to(st, "app", 2, 3000));
      again.run();
      const auto& end = again.uut.state();
      BOOST_TEST(end.status == deployment_status::completed);
      BOOST_TEST(vm_names(end, "app").size() == 2u);
      BOOST_TEST(end.resources.volumes.size() == 2u);
      BOOST_TEST(end.intents.empty());
      for (auto& [name, count] : again.creates) BOOST_TEST(count == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_machine_restarted_during_a_scale_resumes_it) {
  auto total = scale_answer_count(6);
  for (int n = 1; n < total; n += 2) {
    BOOST_TEST_CONTEXT("restart after " << n << " answers of the scale") {
      auto first = deployed_driver();
      first.feed(scale_to(first.uut.state(), "app", 6, 2000));
      first.run(n);
      fsm_driver second{first.uut.state()};
      second.feed(resume{tick(4000)});
      second.run();
      const auto& st = second.uut.state();
      BOOST_TEST(st.status == deployment_status::completed);
      BOOST_TEST(vm_names(st, "app").size() == 6u);
      BOOST_TEST(st.resources.volumes.size() == 6u);
      for (auto& [name, count] : second.creates) BOOST_TEST(first.creates.count(name) == 0u);
    }
  }
}

// -- resize and rebuild ---------------------------------------------------------------------

namespace {

template_spec with_group(template_spec spec, const std::string& group, const std::string& flavor,
                         const std::string& image) {
  for (auto& [name, g] : spec.vm_config)
    if (name == group) {
      if (!flavor.empty()) g.flavor = flavor;
      if (!image.empty()) g.image = image;
    }
  return spec;
}

// An update of `group` to `flavor` and/or `image` (empty: unchanged).
start_update change_group(const deployment_record& rec, const std::string& group,
                          const std::string& flavor, const std::string& image, int at) {
  auto params = rec.parameters;
  if (!flavor.empty()) params[group + "_flavor"] = flavor;
  if (!image.empty()) params[group + "_image"] = image;
  return start_update{operation_type::update, params, with_group(rec.spec, group, flavor, image),
                      tick(at)};
}

const vm_record& vm_of(const deployment_record& rec, const std::string& name) {
  auto i = std::find_if(rec.resources.vms.begin(), rec.resources.vms.end(),
                        [&](const auto& vm) { return vm.name == name; });
  BOOST_REQUIRE(i != rec.resources.vms.end());
  return *i;
}

template <class T>
std::vector<std::string> names_of(const commands& cmds) {
  std::vector<std::string> out;
  for (const auto& cmd : cmds)
    if (std::holds_alternative<T>(cmd)) out.push_back(logical_name_of(cmd));
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<std::string> web_vms{"vm:web-1", "vm:web-2"};

// The answers of a resize of `web` on the deployed 3-tier template.
int resize_answer_count() {
  auto drv = deployed_driver();
  auto before = drv.answers;
  drv.feed(change_group(drv.uut.state(), "web", "m1.medium", "", 2000));
  drv.run();
  return drv.answers - before;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_flavor_change_resizes_each_vm_of_the_group_and_records_the_new_flavor) {
  auto drv = deployed_driver();
  auto creates = drv.creates;
  drv.log.clear();
  drv.feed(change_group(drv.uut.state(), "web", "m1.medium", "", 2000));
  auto cmds = drv.log;
  BOOST_TEST(recorded<desired_changed>(cmds.at(0)) != nullptr);
  BOOST_TEST(recorded<status_changed>(cmds.at(2))->to == deployment_status::updating);
  // Intent before effect, and both VMs at once.
  size_t intents = 0;
  for (size_t i = 0; i < cmds.size(); ++i)
    if (auto intent = recorded<intent_recorded>(cmds[i])) {
      BOOST_TEST(intent->action == intent_action::resize);
      ++intents;
    } else if (std::holds_alternative<resize_server>(cmds[i])) {
      BOOST_TEST(std::get<resize_server>(cmds[i]).flavor == "m1.medium");
      BOOST_TEST(intents > 0u);
    }
  BOOST_TEST(intents == 2u);
  BOOST_TEST(names_of<resize_server>(cmds) == web_vms);
  BOOST_TEST(vm_of(drv.uut.state(), "my-app-web-1").status == "RESIZE");
  drv.run();
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::completed);
  BOOST_TEST(st.operation->status == operation_status::succeeded);
  for (std::string name : {"my-app-web-1", "my-app-web-2"}) {
    BOOST_TEST(vm_of(st, name).flavor == "m1.medium");
    BOOST_TEST(vm_of(st, name).status == "ACTIVE");
  }
  BOOST_TEST(vm_of(st, "my-app-app-1").flavor == "m1.medium"); // its own, untouched
  BOOST_TEST(vm_of(st, "my-app-db-1").flavor == "m1.large");
  BOOST_TEST(names_of<resize_server>(drv.log) == web_vms);
  BOOST_TEST(names_of<confirm_resize>(drv.log) == web_vms);
  BOOST_TEST(actions(drv.log).size() == 4u); // nothing else was touched
  BOOST_TEST(drv.creates == creates);
  BOOST_TEST(plan_changes(st).empty());
  BOOST_TEST((fold(drv.initial, drv.events) == st));
}

BOOST_AUTO_TEST_CASE(an_image_change_rebuilds_each_vm_of_the_group) {
  auto drv = deployed_driver();
  drv.log.clear();
  drv.feed(change_group(drv.uut.state(), "web", "", "cirros", 2000));
  drv.run();
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::completed);
  for (std::string name : {"my-app-web-1", "my-app-web-2"}) {
    BOOST_TEST(vm_of(st, name).image == "cirros");
    BOOST_TEST(vm_of(st, name).flavor == "m1.small");
  }
  BOOST_TEST(names_of<rebuild_server>(drv.log) == web_vms);
  BOOST_TEST(actions(drv.log).size() == 2u);
  auto intents = std::count_if(drv.events.begin(), drv.events.end(), [](const auto& ev) {
    auto x = std::get_if<intent_recorded>(&ev.data);
    return x != nullptr && x->action == intent_action::rebuild;
  });
  BOOST_TEST(intents == 2);
  BOOST_TEST((fold(drv.initial, drv.events) == st));
}

BOOST_AUTO_TEST_CASE(a_flavor_and_image_change_resizes_then_rebuilds) {
  auto drv = deployed_driver();
  drv.log.clear();
  drv.feed(change_group(drv.uut.state(), "db", "m1.xlarge", "cirros", 2000));
  drv.run();
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::completed);
  BOOST_TEST(vm_of(st, "my-app-db-1").flavor == "m1.xlarge");
  BOOST_TEST(vm_of(st, "my-app-db-1").image == "cirros");
  auto steps = actions(drv.log);
  BOOST_REQUIRE_EQUAL(steps.size(), 3u);
  BOOST_TEST(std::holds_alternative<resize_server>(steps[0]));
  BOOST_TEST(std::holds_alternative<confirm_resize>(steps[1]));
  BOOST_TEST(std::holds_alternative<rebuild_server>(steps[2]));
}

BOOST_AUTO_TEST_CASE(a_resize_failing_in_verify_resize_is_reverted_then_the_operation_fails) {
  auto drv = deployed_driver();
  auto cmds = must_apply(drv.uut, change_group(drv.uut.state(), "web", "m1.medium", "", 2000));
  // Both resizes land in VERIFY_RESIZE; web-2 confirms, web-1's confirm is refused.
  auto confirms = answer_all(drv, cmds);
  BOOST_TEST(names_of<confirm_resize>(confirms) == web_vms);
  must_apply(drv.uut, change_result{"vm:web-2", "ACTIVE", true, {}, {}, {}, tick(2010)});
  auto reverting = must_apply(
    drv.uut, change_result{"vm:web-1",
                           "VERIFY_RESIZE",
                           true,
                           {},
                           "conflict",
                           "Cannot 'confirmResize' instance while it is in vm_state resized",
                           tick(2011)});
  BOOST_TEST(recorded<error_reported>(reverting.at(0))->error.code == "conflict");
  BOOST_TEST(recorded<resource_changed>(reverting.at(1))->status == "REVERT_RESIZE");
  BOOST_REQUIRE_EQUAL(actions(reverting).size(), 1u);
  const auto& revert = std::get<revert_resize>(actions(reverting).at(0));
  BOOST_TEST(revert.flavor == "m1.small");
  BOOST_TEST(drv.uut.state().status == deployment_status::updating);
  must_apply(drv.uut, change_result{"vm:web-1", "ACTIVE", true, {}, {}, {}, tick(2012)});
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::failed);
  BOOST_REQUIRE(st.operation->error);
  BOOST_TEST(st.operation->error->code == "conflict");
  BOOST_TEST(st.operation->error->resource == "my-app-web-1");
  BOOST_TEST(st.operation->error->message.find("reverted") != std::string::npos);
  // The record says which VM has which flavor.
  BOOST_TEST(vm_of(st, "my-app-web-1").flavor == "m1.small");
  BOOST_TEST(vm_of(st, "my-app-web-1").status == "ACTIVE");
  BOOST_TEST(vm_of(st, "my-app-web-2").flavor == "m1.medium");
  // A later update, on a machine rebuilt from storage, resizes only what is left.
  fsm_driver again{st};
  again.feed(change_group(st, "web", "m1.medium", "", 3000));
  again.run();
  BOOST_TEST(again.uut.state().status == deployment_status::completed);
  BOOST_TEST(names_of<resize_server>(again.log) == (std::vector<std::string>{"vm:web-1"}));
  BOOST_TEST(vm_of(again.uut.state(), "my-app-web-1").flavor == "m1.medium");
}

BOOST_AUTO_TEST_CASE(a_refused_or_failed_resize_fails_at_once_recording_what_nova_shows) {
  struct outcome {
    std::string status;
    std::string code;
  };
  for (const auto& [status, code] :
       std::vector<outcome>{{"ACTIVE", "bad_request"}, {"ERROR", "server_error"}, {"ACTIVE", ""}}) {
    BOOST_TEST_CONTEXT("resize answered " << status << " " << code) {
      auto drv = deployed_driver();
      drv.feed(change_group(drv.uut.state(), "db", "m1.xlarge", "", 2000));
      drv.queue.clear();
      drv.feed(change_result{"vm:db-1", status, false, {}, code, "no", tick(2001)});
      BOOST_TEST(drv.queue.empty()); // nothing to revert
      const auto& st = drv.uut.state();
      BOOST_TEST(st.status == deployment_status::failed);
      BOOST_TEST(st.operation->error->code == (code.empty() ? "resize_failed" : code));
      BOOST_TEST(vm_of(st, "my-app-db-1").status == status);
      BOOST_TEST(vm_of(st, "my-app-db-1").flavor == "m1.large");
      BOOST_TEST((fold(drv.initial, drv.events) == st));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_resize_still_out_when_another_fails_is_confirmed_and_recorded) {
  auto drv = deployed_driver();
  drv.feed(change_group(drv.uut.state(), "web", "m1.medium", "", 2000));
  drv.queue.clear();
  drv.feed(change_result{"vm:web-1", "ACTIVE", false, {}, "quota_exceeded", "no", tick(2001)});
  BOOST_TEST(drv.uut.state().status == deployment_status::failed);
  auto out
    = must_apply(drv.uut, change_result{"vm:web-2", "VERIFY_RESIZE", true, {}, {}, {}, tick(2002)});
  BOOST_REQUIRE_EQUAL(actions(out).size(), 1u);
  BOOST_TEST(std::holds_alternative<confirm_resize>(actions(out).at(0)));
  must_apply(drv.uut, change_result{"vm:web-2", "ACTIVE", true, {}, {}, {}, tick(2003)});
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::failed);
  BOOST_TEST(st.operation->error->code == "quota_exceeded");
  BOOST_TEST(vm_of(st, "my-app-web-1").flavor == "m1.small");
  BOOST_TEST(vm_of(st, "my-app-web-2").flavor == "m1.medium");
  BOOST_TEST(vm_of(st, "my-app-web-2").status == "ACTIVE");
}

BOOST_AUTO_TEST_CASE(a_machine_restarted_during_a_resize_carries_on_from_the_recorded_step) {
  auto total = resize_answer_count();
  BOOST_REQUIRE_EQUAL(total, 4);
  for (int n = 0; n <= total; ++n) {
    BOOST_TEST_CONTEXT("restart after " << n << " answers of the resize") {
      auto first = deployed_driver();
      first.feed(change_group(first.uut.state(), "web", "m1.medium", "", 2000));
      first.run(n);
      auto stored = first.uut.state();
      fsm_driver second{stored};
      second.feed(resume{tick(4000)});
      // Each VM goes on with the step its record names: a resize whose VERIFY_RESIZE was
      // recorded is confirmed, never sent again; a VM already on the new flavor is left alone.
      for (const auto& cmd : second.queue) {
        const auto& vm = vm_of(stored, "my-app-" + logical_name_of(cmd).substr(3));
        if (vm.status == "RESIZE")
          BOOST_TEST(std::holds_alternative<resize_server>(cmd));
        else
          BOOST_TEST(std::holds_alternative<confirm_resize>(cmd));
      }
      second.run();
      const auto& st = second.uut.state();
      BOOST_TEST(st.status == deployment_status::completed);
      for (std::string name : {"my-app-web-1", "my-app-web-2"})
        BOOST_TEST(vm_of(st, name).flavor == "m1.medium");
      BOOST_TEST(second.creates.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_machine_restarted_while_reverting_finishes_the_revert) {
  auto drv = deployed_driver();
  auto cmds = must_apply(drv.uut, change_group(drv.uut.state(), "db", "m1.xlarge", "", 2000));
  answer_all(drv, cmds); // VERIFY_RESIZE, confirm out
  must_apply(drv.uut,
             change_result{"vm:db-1", "VERIFY_RESIZE", true, {}, "conflict", "no", tick(2001)});
  fsm_driver second{drv.uut.state()};
  auto out = must_apply(second.uut, resume{tick(3000)});
  BOOST_REQUIRE_EQUAL(actions(out).size(), 1u);
  BOOST_TEST(std::holds_alternative<revert_resize>(actions(out).at(0)));
  must_apply(second.uut, change_result{"vm:db-1", "ACTIVE", true, {}, {}, {}, tick(3001)});
  const auto& st = second.uut.state();
  BOOST_TEST(st.status == deployment_status::failed);
  BOOST_TEST(st.operation->error->code == "resize_reverted");
  BOOST_TEST(vm_of(st, "my-app-db-1").flavor == "m1.large");
}

BOOST_AUTO_TEST_CASE(delete_during_a_resize_waits_for_it_then_removes_everything) {
  auto drv = deployed_driver();
  auto cmds = must_apply(drv.uut, change_group(drv.uut.state(), "web", "m1.medium", "", 2000));
  auto out = must_apply(drv.uut, start_delete{tick(2001)});
  // The servers being resized are deleted once their resize answers.
  for (const auto& name : logical_names(out))
    BOOST_TEST((name != "vm:web-1" && name != "vm:web-2"));
  for (auto& cmd : actions(cmds)) drv.queue.push_back(cmd);
  for (auto& cmd : actions(out)) drv.queue.push_back(cmd);
  drv.run();
  const auto& st = drv.uut.state();
  BOOST_TEST(st.status == deployment_status::deleted);
  BOOST_TEST(is_empty(st.resources));
}

BOOST_AUTO_TEST_SUITE_END()
