#include "orch/http/configuration_routes.hpp"

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "orch/errc.hpp"

using namespace orch;
using orch::http::parse_configure_request;

namespace {

std::vector<std::string> fields(const schemas::request_error& err) {
  std::vector<std::string> result;
  for (const auto& e : err.errors) result.push_back(e.field);
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(configuration_routes)

BOOST_AUTO_TEST_CASE(a_full_request_is_parsed_with_extra_vars_kept_as_json) {
  auto parsed = parse_configure_request(
    R"({"playbook": "configure-web.yml", "inventory": {"web_servers": ["10.0.1.10", "10.0.1.11"]},
        "extra_vars": {"app_port": 8080, "names": ["a", "b"]}})");
  auto* req = std::get_if<actors::configure_request>(&parsed);
  BOOST_REQUIRE(req != nullptr);
  BOOST_TEST(req->playbook == "configure-web.yml");
  BOOST_REQUIRE(req->inventory.has_value());
  BOOST_TEST(
    (req->inventory->at("web_servers") == std::vector<std::string>{"10.0.1.10", "10.0.1.11"}));
  BOOST_TEST(req->extra_vars == R"({"app_port":8080,"names":["a","b"]})");
}

BOOST_AUTO_TEST_CASE(inventory_and_extra_vars_are_optional) {
  auto parsed = parse_configure_request(R"({"playbook": "site.yaml", "inventory": null})");
  auto* req = std::get_if<actors::configure_request>(&parsed);
  BOOST_REQUIRE(req != nullptr);
  BOOST_TEST(!req->inventory.has_value());
  BOOST_TEST(req->extra_vars == "{}");
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_an_object_is_malformed) {
  for (auto body : {"", "[]", "{", "\"site.yml\""}) {
    auto parsed = parse_configure_request(body);
    auto* err = std::get_if<schemas::request_error>(&parsed);
    BOOST_REQUIRE(err != nullptr);
    BOOST_TEST((err->code == errc::malformed_request), body);
  }
}

BOOST_AUTO_TEST_CASE(every_bad_field_is_reported) {
  auto parsed = parse_configure_request(
    R"({"playbook": "../../etc/shadow.yml", "inventory": {"web": "10.0.1.10"},
        "extra_vars": [1], "verbose": true})");
  auto* err = std::get_if<schemas::request_error>(&parsed);
  BOOST_REQUIRE(err != nullptr);
  BOOST_TEST((err->code == errc::invalid_spec));
  std::vector<std::string> expected{"playbook", "inventory", "extra_vars", "verbose"};
  BOOST_TEST(fields(*err) == expected, boost::test_tools::per_element());
  BOOST_TEST(err->errors[0].message == "must be a file name in the playbook directory, not a path");
}

BOOST_AUTO_TEST_CASE(the_playbook_is_required_and_must_be_a_string) {
  auto missing = parse_configure_request(R"({"extra_vars": {}})");
  BOOST_REQUIRE(std::holds_alternative<schemas::request_error>(missing));
  BOOST_TEST(std::get<schemas::request_error>(missing).errors[0].message == "is required");
  auto number = parse_configure_request(R"({"playbook": 7})");
  BOOST_REQUIRE(std::holds_alternative<schemas::request_error>(number));
  BOOST_TEST(std::get<schemas::request_error>(number).errors[0].message == "must be a string");
}

BOOST_AUTO_TEST_CASE(a_run_is_shown_with_hosts_by_address_and_output_on_request) {
  persistence::configuration_run run;
  run.id = uuid::random();
  run.deployment_id = uuid::random();
  run.playbook = "site.yml";
  run.inventory = {{"web", {"10.0.1.10"}}};
  run.status = operation_status::succeeded;
  run.hosts = {{"10.0.1.10", 2, 1, 0, 0, 0}};
  run.output = "PLAY RECAP";
  rapidjson::Document doc;
  doc.Parse(http::to_run_json(run, false).c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  BOOST_TEST(doc["hosts"]["10.0.1.10"]["changed"].GetInt() == 1);
  BOOST_TEST(doc["changed"].GetInt() == 1);
  BOOST_TEST(doc["failed_task"].IsNull());
  BOOST_TEST(doc["finished_at"].IsNull());
  BOOST_TEST(!doc.HasMember("output"));
  BOOST_TEST(doc["inventory"]["web"][0].GetString() == std::string{"10.0.1.10"});
  doc.Parse(http::to_run_json(run, true).c_str());
  BOOST_TEST(doc["output"].GetString() == std::string{"PLAY RECAP"});
}

BOOST_AUTO_TEST_SUITE_END()
