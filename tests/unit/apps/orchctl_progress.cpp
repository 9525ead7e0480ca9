#include "progress.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch::ctl;
using namespace std::chrono_literals;

namespace {

std::string feed(progress_tracker& uut, const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  return uut.apply(doc);
}

std::string event(int seq, const std::string& type, const std::string& data) {
  return R"({"seq":)" + std::to_string(seq) + R"(,"at":"2026-12-03T10:00:0)"
         + std::to_string(seq % 10) + R"(Z","type":")" + type + R"(","data":)" + data + "}";
}

} // namespace

BOOST_AUTO_TEST_SUITE(orchctl_progress)

BOOST_AUTO_TEST_CASE(a_deploy_counts_resources_until_its_operation_succeeds) {
  progress_tracker uut{"deploy", 3};
  feed(uut, event(1, "status_changed", R"({"from":"PENDING","to":"IN_PROGRESS"})"));
  feed(uut, event(2, "operation_started", R"({"type":"deploy"})"));
  BOOST_TEST(feed(uut, event(3, "intent",
                             R"({"action":"create","kind":"network","logical_name":"network",)"
                             R"("cloud_name":"app-net"})"))
             == "intent: create network app-net");
  feed(uut,
       event(4, "resource_created", R"({"kind":"network","logical_name":"network","id":"n1"})"));
  BOOST_TEST(uut.done() == 1);
  feed(uut, event(5, "intent",
                  R"({"action":"create","kind":"server","logical_name":"server:web-1",)"
                  R"("cloud_name":"app-web-1"})"));
  feed(uut, event(6, "resource_created",
                  R"({"kind":"server","logical_name":"server:web-1","status":"BUILD"})"));
  BOOST_TEST(uut.done() == 1); // a server counts once it is ACTIVE
  BOOST_TEST(uut.render("app", 12s, 200)
             == "app  IN_PROGRESS  [###-------] 1/3 resources  waiting for server app-web-1  0:12");
  BOOST_TEST(feed(uut, event(7, "resource_ready",
                             R"({"kind":"server","logical_name":"server:web-1","status":"ACTIVE",)"
                             R"("addresses":["10.0.1.10"]})"))
             == "ready server app-web-1 ACTIVE 10.0.1.10");
  BOOST_TEST(uut.done() == 2);
  BOOST_TEST(!uut.finished());
  feed(uut, event(8, "operation_finished", R"({"status":"succeeded","error":null})"));
  feed(uut, event(9, "status_changed", R"({"from":"IN_PROGRESS","to":"COMPLETED"})"));
  BOOST_TEST(uut.finished());
  BOOST_TEST(uut.outcome() == "succeeded");
  BOOST_TEST(uut.status() == "COMPLETED");
  BOOST_TEST(uut.last_seq() == 9);
}

BOOST_AUTO_TEST_CASE(events_of_an_earlier_operation_are_not_counted) {
  progress_tracker uut{"delete"};
  // The tail of a cancelled deploy, then the delete.
  feed(uut, event(1, "resource_created", R"({"kind":"network","logical_name":"network"})"));
  feed(uut, event(2, "operation_finished", R"({"status":"cancelled"})"));
  BOOST_TEST(!uut.finished());
  BOOST_TEST(uut.total() == 0);
  feed(uut, event(3, "operation_started", R"({"type":"delete"})"));
  feed(uut,
       event(4, "resource_deleted", R"({"kind":"network","logical_name":"network","id":"n"})"));
  BOOST_TEST(uut.done() == 1);
  BOOST_TEST(uut.total() == 1);
}

BOOST_AUTO_TEST_CASE(a_failure_carries_the_operation_error) {
  progress_tracker uut{"deploy"};
  feed(uut, event(1, "operation_started", R"({"type":"deploy"})"));
  auto line = feed(uut, event(2, "operation_finished",
                              R"({"status":"failed","error":{"code":"quota_exceeded",)"
                              R"("message":"instances","resource":"server:web-2"}})"));
  BOOST_TEST(line == "operation finished: failed (quota_exceeded: instances (server:web-2))");
  BOOST_TEST(uut.finished());
  BOOST_TEST(uut.outcome() == "failed");
  BOOST_TEST(uut.error() == "quota_exceeded: instances (server:web-2)");
}

BOOST_AUTO_TEST_CASE(the_progress_line_fits_its_width_and_shortens_the_step_first) {
  progress_tracker uut{"deploy", 10};
  feed(uut, event(1, "operation_started", R"({"type":"deploy"})"));
  feed(uut, event(2, "intent",
                  R"({"action":"create","kind":"server","logical_name":"server:web-1",)"
                  R"("cloud_name":"a-very-long-deployment-name-web-1"})"));
  auto line = uut.render("a-very-long-deployment-name", 75s, 80);
  BOOST_TEST(line.size() <= 80u);
  BOOST_TEST(line.find("0/10 resources") != std::string::npos);
  BOOST_TEST(line.substr(line.size() - 6) == "  1:15");
  BOOST_TEST(line.find("...") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(elapsed_time_reads_as_minutes_or_hours) {
  BOOST_TEST(format_elapsed(0s) == "0:00");
  BOOST_TEST(format_elapsed(61s) == "1:01");
  BOOST_TEST(format_elapsed(3725s) == "1:02:05");
}

BOOST_AUTO_TEST_SUITE_END()
