#include "orch/ansible/job_events.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace orch::ansible;

namespace {

std::vector<std::string> recorded(const std::string& run) {
  std::vector<std::string> result;
  auto dir = std::filesystem::path{ORCH_ANSIBLE_RUNNER_SAMPLES_DIR} / run / "job_events";
  for (const auto& entry : std::filesystem::directory_iterator{dir}) {
    std::ifstream in{entry.path()};
    std::ostringstream text;
    text << in.rdbuf();
    result.push_back(text.str());
  }
  BOOST_REQUIRE(!result.empty());
  return result;
}

const host_summary& host(const run_summary& summary, const std::string& name) {
  for (const auto& x : summary.hosts)
    if (x.host == name) return x;
  BOOST_FAIL("no host " << name);
  throw std::logic_error("unreachable");
}

} // namespace

BOOST_AUTO_TEST_SUITE(ansible_job_events)

BOOST_AUTO_TEST_CASE(a_first_run_reports_every_host_changed) {
  auto summary = parse_job_events(recorded("first_run"));
  BOOST_TEST(summary.complete);
  BOOST_TEST(summary.succeeded());
  BOOST_TEST(summary.malformed == 0);
  BOOST_REQUIRE(summary.hosts.size() == 3u);
  BOOST_TEST(summary.hosts[0].host == "127.0.10.10");
  for (const auto& x : summary.hosts) {
    BOOST_TEST(x.ok == 2);
    BOOST_TEST(x.changed == 2);
    BOOST_TEST(x.failed == 0);
    BOOST_TEST(x.unreachable == 0);
  }
  BOOST_TEST(summary.changed() == 6);
  BOOST_TEST(summary.failures.empty());
  BOOST_TEST(describe_failures(summary).empty());
}

BOOST_AUTO_TEST_CASE(running_the_same_playbook_again_reports_nothing_changed) {
  auto summary = parse_job_events(recorded("second_run"));
  BOOST_TEST(summary.succeeded());
  BOOST_TEST(summary.changed() == 0);
  BOOST_TEST(host(summary, "127.0.10.12").ok == 2);
}

BOOST_AUTO_TEST_CASE(a_failing_task_names_its_host_and_task) {
  auto summary = parse_job_events(recorded("one_host_failed"));
  BOOST_TEST(summary.complete);
  BOOST_TEST(!summary.succeeded());
  BOOST_TEST(host(summary, "127.0.10.11").failed == 1);
  BOOST_TEST(host(summary, "127.0.10.10").failed == 0);
  BOOST_TEST(host(summary, "127.0.10.10").skipped == 1);
  BOOST_REQUIRE(summary.failures.size() == 1u);
  BOOST_TEST(summary.failures[0].host == "127.0.10.11");
  BOOST_TEST(summary.failures[0].task == "Refuse the second web server");
  BOOST_TEST(summary.failures[0].message == "refused");
  BOOST_TEST(describe_failures(summary)
             == "127.0.10.11: task \"Refuse the second web server\" failed (refused)");
}

BOOST_AUTO_TEST_CASE(an_unreachable_host_is_reported_as_unreachable) {
  auto summary = parse_job_events(recorded("unreachable"));
  BOOST_TEST(!summary.succeeded());
  BOOST_TEST(host(summary, "127.0.10.12").unreachable == 1);
  BOOST_TEST(host(summary, "127.0.10.12").ok == 0);
  BOOST_TEST(host(summary, "127.0.10.10").changed == 2);
  BOOST_REQUIRE(summary.failures.size() == 1u);
  BOOST_TEST(summary.failures[0].unreachable);
  BOOST_TEST(summary.failures[0].task == "Create the application directory");
  BOOST_TEST(describe_failures(summary).starts_with(
    "127.0.10.12: unreachable at task \"Create the application directory\" (Failed to connect"));
}

BOOST_AUTO_TEST_CASE(a_run_cut_short_is_tallied_from_its_per_host_events) {
  // As if the run was killed after the first task: no recap, one event file half written.
  auto events = recorded("one_host_failed");
  std::vector<std::string> kept;
  for (const auto& text : events)
    if (text.find("\"Refuse the second web server\"") == std::string::npos
        && text.find("playbook_on_stats") == std::string::npos)
      kept.push_back(text);
  kept.push_back(R"({"event": "runner_on_ok", "counter": 9)");
  auto summary = parse_job_events(kept);
  BOOST_TEST(!summary.complete);
  BOOST_TEST(!summary.succeeded());
  BOOST_TEST(summary.malformed == 1);
  BOOST_REQUIRE(summary.hosts.size() == 3u);
  BOOST_TEST(host(summary, "127.0.10.11").ok == 1);
  BOOST_TEST(host(summary, "127.0.10.11").changed == 0);
}

BOOST_AUTO_TEST_CASE(ignored_errors_are_not_failures) {
  std::vector<std::string> events{
    R"({"event": "runner_on_failed", "counter": 2, "event_data": {"host": "10.0.1.10",
        "task": "optional", "ignore_errors": true, "res": {"msg": "nope"}}})",
    R"({"event": "runner_on_ok", "counter": 1, "event_data": {"host": "10.0.1.10",
        "task": "first", "res": {"changed": true}}})"};
  auto summary = parse_job_events(events);
  BOOST_TEST(summary.failures.empty());
  BOOST_REQUIRE(summary.hosts.size() == 1u);
  BOOST_TEST(summary.hosts[0].ok == 2);
  BOOST_TEST(summary.hosts[0].changed == 1);
}

BOOST_AUTO_TEST_CASE(long_failure_messages_are_cut) {
  std::string msg(2000, 'x');
  std::vector<std::string> events{R"({"event": "runner_on_failed", "counter": 1, "event_data":
      {"host": "10.0.1.10", "task": "t", "res": {"msg": ")"
                                  + msg + R"("}}})"};
  auto summary = parse_job_events(events);
  BOOST_REQUIRE(summary.failures.size() == 1u);
  BOOST_TEST(summary.failures[0].message.size() == max_failure_message + 3);
}

BOOST_AUTO_TEST_SUITE_END()
