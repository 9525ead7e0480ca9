#include "render.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch::ctl;

namespace {

rapidjson::Document json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  return doc;
}

} // namespace

BOOST_AUTO_TEST_SUITE(orchctl_render)

BOOST_AUTO_TEST_CASE(a_dry_run_reads_like_a_plan) {
  auto doc = json(R"({"version": 42, "changes": [
    {"action": "create", "resource": "vm", "name": "app-web-3", "group": "web", "from": null, "to": null},
    {"action": "delete", "resource": "vm", "name": "app-db-2", "group": "db"},
    {"action": "resize", "resource": "vm", "name": "app-web-1", "group": "web",
     "from": "m1.small", "to": "m1.large"}]})");
  BOOST_TEST(format_plan(doc)
             == "+ create vm app-web-3 (group web)\n"
                "- remove vm app-db-2 (group db)\n"
                "~ resize vm app-web-1 (group web): m1.small -> m1.large\n"
                "\nPlan at version 42: 1 to create, 1 to change, 1 to remove.\n");
}

BOOST_AUTO_TEST_CASE(an_empty_plan_says_so) {
  BOOST_TEST(format_plan(json(R"({"version": 7, "changes": []})"))
             == "No changes: the deployment already matches at version 7.\n");
}

BOOST_AUTO_TEST_CASE(tables_align_their_columns) {
  BOOST_TEST(format_table({"A", "BB"}, {{"xxx", "y"}, {"z", "w"}}) == "A    BB\nxxx  y\nz    w\n");
}

BOOST_AUTO_TEST_CASE(a_deployment_shows_its_error_and_vms) {
  auto doc = json(R"({"id": "d1", "name": "app", "status": "FAILED", "cloud_region": "RegionOne",
    "template": {"name": "stack"}, "parameters": {"web_count": 2},
    "operation": {"type": "deploy", "status": "failed", "started_at": "t0", "finished_at": "t1",
                  "error": {"code": "quota_exceeded", "message": "no room", "resource": "server:web-2"}},
    "resources": {"network_id": "n1", "vms": [{"id": "v1", "name": "app-web-1", "group": "web",
      "status": "ACTIVE", "flavor": "m1.small", "addresses": ["10.0.1.10"]}]}})");
  auto text = format_deployment(doc);
  BOOST_TEST(text.find("Status      FAILED\n") != std::string::npos);
  BOOST_TEST(text.find("Parameters  web_count=2\n") != std::string::npos);
  BOOST_TEST(text.find("Error       quota_exceeded: no room (server:web-2)\n")
             != std::string::npos);
  BOOST_TEST(text.find("app-web-1  web    ACTIVE  m1.small  10.0.1.10  v1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_list_says_when_it_is_cut_short) {
  auto doc = json(R"({"items": [{"id": "d1", "name": "app", "status": "COMPLETED",
    "operation": {"type": "deploy", "status": "succeeded"}, "created_at": "t"}], "total": 3})");
  auto text = format_deployment_list(doc);
  BOOST_TEST(text.find("d1  app   COMPLETED  deploy succeeded  t") != std::string::npos);
  BOOST_TEST(text.find("1 of 3 shown") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(times_are_shortened_to_the_clock) {
  BOOST_TEST(short_time("2026-12-03T10:30:01Z") == "10:30:01");
  BOOST_TEST(short_time("bogus") == "bogus");
}

BOOST_AUTO_TEST_SUITE_END()
