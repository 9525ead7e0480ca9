#include "orch/schemas/deployment_json.hpp"

#include <set>
#include <string>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "fsm_driver.hpp"
#include "orch/errc.hpp"

using namespace orch;
using orch::testing::fsm_driver;
using orch::testing::pending_record;
using orch::testing::tick;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "not JSON: " << text);
  return doc;
}

std::set<std::string> keys(const rapidjson::Value& obj) {
  std::set<std::string> out;
  for (auto i = obj.MemberBegin(); i != obj.MemberEnd(); ++i) out.insert(i->name.GetString());
  return out;
}

// A full deploy followed by a full delete, for the event log and every state on the way.
fsm_driver deployed_and_deleted() {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  drv.feed(start_delete{tick(500)});
  drv.run();
  return drv;
}

fsm_driver completed() {
  auto rec = pending_record();
  rec.parameters = {{"web_count", int64_t{2}}};
  fsm_driver drv{rec};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  return drv;
}

} // namespace

BOOST_AUTO_TEST_SUITE(deployment_json)

BOOST_AUTO_TEST_CASE(the_api_representation_has_the_fields_of_api_md) {
  auto drv = completed();
  auto doc = parse(schemas::to_api_json(drv.uut.state()));
  BOOST_TEST(
    keys(doc)
    == (std::set<std::string>{"id", "name", "status", "template", "parameters", "cloud_region",
                              "resources", "operation", "created_at", "updated_at", "deleted_at"}));
  BOOST_TEST(doc["status"].GetString() == std::string{"COMPLETED"});
  BOOST_TEST(doc["parameters"]["web_count"].GetInt() == 2);
  BOOST_TEST(doc["template"]["vm_config"]["app"]["count"].GetInt() == 3);
  BOOST_TEST(doc["deleted_at"].IsNull());
  BOOST_TEST(doc["created_at"].GetString() == std::string{"2023-11-14T22:13:20Z"});
  const auto& res = doc["resources"];
  BOOST_TEST(keys(res)
             == (std::set<std::string>{"network_id", "subnet_ids", "router_id", "vm_ids", "vms",
                                       "volume_ids"}));
  BOOST_TEST(res["network_id"].GetString() == std::string{"id-network"});
  BOOST_TEST(res["subnet_ids"]["web"].GetString() == std::string{"id-subnet:web"});
  BOOST_TEST(res["vm_ids"].Size() == 6u);
  BOOST_TEST(res["volume_ids"].Size() == 3u);
  const auto& vm = res["vms"][0];
  BOOST_TEST(keys(vm)
             == (std::set<std::string>{"id", "name", "group", "status", "flavor", "addresses",
                                       "volume_ids"}));
  BOOST_TEST(vm["name"].GetString() == std::string{"my-app-web-1"});
  BOOST_TEST(vm["addresses"][0].GetString() == std::string{"10.0.1.10"});
  const auto& op = doc["operation"];
  BOOST_TEST(op["type"].GetString() == std::string{"deploy"});
  BOOST_TEST(op["status"].GetString() == std::string{"succeeded"});
  BOOST_TEST(op["error"].IsNull());
  BOOST_TEST(op["finished_at"].IsString());
}

BOOST_AUTO_TEST_CASE(a_failed_deployment_shows_its_error_and_unknown_ids_are_null) {
  fsm_driver drv{pending_record()};
  drv.fail_at = 0;
  drv.feed(start_deploy{tick(0)});
  drv.run();
  auto doc = parse(schemas::to_api_json(drv.uut.state()));
  BOOST_TEST(doc["status"].GetString() == std::string{"FAILED"});
  const auto& err = doc["operation"]["error"];
  BOOST_TEST(err["code"].GetString() == std::string{"quota_exceeded"});
  BOOST_TEST(err["resource"].GetString() == std::string{"my-app-net"});
  BOOST_TEST(doc["resources"]["network_id"].IsNull());
  BOOST_TEST(doc["resources"]["router_id"].IsNull());
}

BOOST_AUTO_TEST_CASE(create_answers_and_listings_have_their_api_shape) {
  auto rec = pending_record();
  auto created = parse(schemas::to_create_response_json(rec));
  BOOST_TEST(keys(created) == (std::set<std::string>{"id", "name", "status"}));
  BOOST_TEST(created["status"].GetString() == std::string{"PENDING"});
  auto listing = parse(schemas::to_list_json({rec, rec}, 7, 2, 4, "/deployments?after=x"));
  BOOST_TEST(keys(listing) == (std::set<std::string>{"items", "total", "limit", "offset", "next"}));
  BOOST_TEST(listing["items"].Size() == 2u);
  BOOST_TEST(listing["items"][1]["name"].GetString() == std::string{"my-app"});
  BOOST_TEST(listing["total"].GetInt() == 7);
  BOOST_TEST(!parse(schemas::to_list_json({}, 0, 50, 0)).HasMember("next"));
}

BOOST_AUTO_TEST_CASE(a_pending_deployment_has_a_null_operation) {
  auto doc = parse(schemas::to_api_json(pending_record()));
  BOOST_TEST(doc["operation"].IsNull());
}

BOOST_AUTO_TEST_CASE(every_state_on_the_way_survives_a_snapshot) {
  auto drv = deployed_and_deleted();
  auto state = drv.initial;
  state.template_id = uuid::random();
  state.epoch = 7;
  for (const auto& ev : drv.events) {
    apply(state, ev);
    auto back = schemas::record_from_snapshot(schemas::snapshot_json(state));
    BOOST_REQUIRE(back);
    BOOST_TEST((*back == state));
  }
}

BOOST_AUTO_TEST_CASE(every_event_survives_its_stored_form) {
  auto drv = deployed_and_deleted();
  std::set<std::string> types;
  for (const auto& ev : drv.events) {
    auto type = event_type(ev.data);
    types.insert(type);
    auto back = schemas::event_data_from_json(type, schemas::event_data_json(ev.data));
    BOOST_REQUIRE(back);
    BOOST_TEST((*back == ev.data), type);
  }
  std::vector<event_data> audit{
    retry_scheduled{"my-app-net", 2, "503", 400}, error_reported{{"timeout", "slow", "my-app-net"}},
    intent_recorded{intent_action::resize,
                    resource_kind::server,
                    "vm:web-1",
                    "my-app-web-1",
                    {"orch-deployment=x", "orch-resource=vm:web-1"}},
    resource_changed{
      resource_kind::server, "vm:web-1", "ACTIVE", "m1.medium", "cirros", {"10.0.1.10"}}};
  for (const auto& data : audit) {
    auto back = schemas::event_data_from_json(event_type(data), schemas::event_data_json(data));
    BOOST_REQUIRE(back);
    BOOST_TEST((*back == data));
  }
  BOOST_TEST(types.size() == 7u);
}

BOOST_AUTO_TEST_CASE(a_desired_change_keeps_its_template_in_order_and_folds_in) {
  auto spec = testing::three_tier();
  // Not alphabetical: the order of groups decides the subnet of a group without its own.
  std::swap(spec.vm_config[0], spec.vm_config[2]);
  spec.vm_config[0].second.count = 4;
  desired_changed change{
    3, {{"db_count", int64_t{4}}, {"web_flavor", std::string{"m1.tiny"}}}, spec};
  auto back = schemas::event_data_from_json("desired_changed", schemas::event_data_json(change));
  BOOST_REQUIRE(back);
  BOOST_TEST((*back == event_data{change}));
  auto state = testing::pending_record();
  apply(state, deployment_event{9, tick(1), change});
  BOOST_TEST(state.generation == 3);
  BOOST_TEST(state.last_seq == 9);
  BOOST_TEST(is_same_template(state.spec, spec));
  auto snap = schemas::record_from_snapshot(schemas::snapshot_json(state));
  BOOST_REQUIRE(snap);
  BOOST_TEST((*snap == state));
}

BOOST_AUTO_TEST_CASE(a_snapshot_from_before_updates_derives_its_high_water_marks) {
  auto drv = deployed_and_deleted();
  auto state
    = fold(drv.initial, std::vector<deployment_event>{drv.events.begin(), drv.events.begin() + 40});
  BOOST_REQUIRE(!state.resources.vms.empty());
  auto text = schemas::snapshot_json(state);
  // What a snapshot written before this version looked like.
  auto old
    = text.substr(0, text.find(",\"generation\"")) + text.substr(text.find(",\"created_at\""));
  BOOST_REQUIRE(old.find("vm_high_water") == std::string::npos);
  auto back = schemas::record_from_snapshot(old);
  BOOST_REQUIRE(back);
  BOOST_TEST(back->generation == 0);
  BOOST_TEST((back->vm_high_water == state.vm_high_water));
}

BOOST_AUTO_TEST_CASE(history_entries_carry_seq_time_type_and_data) {
  deployment_event ev{12, tick(3),
                      status_changed{deployment_status::pending, deployment_status::in_progress}};
  auto doc = parse(schemas::to_api_json(ev));
  BOOST_TEST(doc["seq"].GetInt() == 12);
  BOOST_TEST(doc["at"].GetString() == std::string{"2023-11-14T22:13:23Z"});
  BOOST_TEST(doc["type"].GetString() == std::string{"status_changed"});
  BOOST_TEST(doc["data"]["to"].GetString() == std::string{"IN_PROGRESS"});
}

BOOST_AUTO_TEST_CASE(corrupt_stored_documents_are_internal_errors) {
  BOOST_TEST(is(schemas::event_data_from_json("nope", "{}").error(), errc::internal));
  BOOST_TEST(is(schemas::event_data_from_json("status_changed", R"({"from":"X","to":"Y"})").error(),
                errc::internal));
  BOOST_TEST(is(schemas::event_data_from_json("retry", "[1]").error(), errc::internal));
  BOOST_TEST(is(schemas::record_from_snapshot(R"({"id":"x"})").error(), errc::internal));
  BOOST_TEST(is(schemas::resources_from_json("{\"vms\":1}").error(), errc::internal));
  BOOST_TEST(is(schemas::parameters_from_json("{\"a\":[]}").error(), errc::internal));
  auto fresh = schemas::resources_from_json("{}");
  BOOST_REQUIRE(fresh);
  BOOST_TEST((*fresh == deployment_resources{}));
}

BOOST_AUTO_TEST_CASE(create_requests_take_a_template_name_or_an_inline_template) {
  auto by_name = schemas::parse_create_deployment(
    R"({"name":"my-app","template":"web-app-stack","cloud_region":"RegionOne",)"
    R"("parameters":{"web_count":2,"db_flavor":"m1.xlarge"}})");
  BOOST_REQUIRE(std::holds_alternative<schemas::create_deployment_request>(by_name));
  auto& req = std::get<schemas::create_deployment_request>(by_name);
  BOOST_TEST(req.name == "my-app");
  BOOST_TEST(std::get<std::string>(req.template_ref) == "web-app-stack");
  BOOST_TEST((req.parameters.at("web_count") == parameter_value{int64_t{2}}));
  auto inline_template = schemas::parse_create_deployment(
    R"({"name":"my-app","cloud_region":"RegionOne","template":{"name":"t","vm_config":)"
    R"({"web":{"flavor":"m1.small","image":"img","count":1}},"network_config":)"
    R"({"cidr":"10.0.0.0/16","subnets":{"web":"10.0.1.0/24"}}}})");
  BOOST_REQUIRE(std::holds_alternative<schemas::create_deployment_request>(inline_template));
  auto& spec = std::get<template_spec>(
    std::get<schemas::create_deployment_request>(inline_template).template_ref);
  BOOST_TEST(spec.vm_config.at(0).first == "web");
}

BOOST_AUTO_TEST_CASE(bad_create_requests_report_every_field) {
  auto res = schemas::parse_create_deployment(
    R"({"name":"My App","template":{"name":"t"},"parameters":{"x":[1]},"extra":1})");
  BOOST_REQUIRE(std::holds_alternative<schemas::request_error>(res));
  const auto& err = std::get<schemas::request_error>(res);
  BOOST_TEST((err.code == errc::invalid_spec));
  std::set<std::string> fields;
  for (auto& e : err.errors) fields.insert(e.field);
  BOOST_TEST(fields.count("name") == 1u);
  BOOST_TEST(fields.count("parameters") == 1u);
  BOOST_TEST(fields.count("extra") == 1u);
  BOOST_TEST(fields.count("cloud_region") == 1u);
  BOOST_TEST(fields.count("template.vm_config") == 1u);
  auto not_json = schemas::parse_create_deployment("{");
  BOOST_TEST((std::get<schemas::request_error>(not_json).code == errc::malformed_request));
  auto not_object = schemas::parse_create_deployment("[]");
  BOOST_TEST((std::get<schemas::request_error>(not_object).code == errc::malformed_request));
}

BOOST_AUTO_TEST_CASE(create_requests_bound_every_string_and_the_nesting) {
  auto res = schemas::parse_create_deployment(
    R"({"name":"my-app","template":")" + std::string(256, 't') + R"(","cloud_region":")"
    + std::string(256, 'r') + R"(","parameters":{")" + std::string(65, 'p') + R"(":1}})");
  BOOST_REQUIRE(std::holds_alternative<schemas::request_error>(res));
  const auto& err = std::get<schemas::request_error>(res);
  BOOST_TEST((err.code == errc::invalid_spec));
  BOOST_REQUIRE(err.errors.size() == 3u);
  BOOST_TEST((err.errors[0] == field_error{"template", "must be at most 255 characters"}));
  BOOST_TEST((err.errors[1] == field_error{"cloud_region", "must be at most 255 characters"}));
  BOOST_TEST((err.errors[2] == field_error{"parameters", "names must be at most 64 characters"}));
  auto deep = schemas::parse_create_deployment(R"({"name":"a","parameters":)" + std::string(40, '[')
                                               + std::string(40, ']') + "}");
  BOOST_REQUIRE(std::holds_alternative<schemas::request_error>(deep));
  BOOST_TEST((std::get<schemas::request_error>(deep).code == errc::malformed_request));
  BOOST_TEST(std::get<schemas::request_error>(deep).detail.find("32 levels") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_inline_template_is_size_checked_after_its_parameters) {
  // 60 groups exceed the default limit, but parameters are yet to be applied.
  std::string groups;
  for (int i = 0; i < 60; ++i)
    groups += (i == 0 ? "" : ",") + std::string{"\"g"} + std::to_string(i)
              + R"(":{"flavor":"f","image":"i","count":1})";
  auto res = schemas::parse_create_deployment(
    R"({"name":"my-app","cloud_region":"RegionOne","template":{"name":"t","vm_config":{)" + groups
    + R"(},"network_config":{"cidr":"10.0.0.0/16"}}})");
  BOOST_TEST(std::holds_alternative<schemas::create_deployment_request>(res));
}

BOOST_AUTO_TEST_SUITE_END()
