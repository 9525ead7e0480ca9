// The orchctl binary against the real orchestrator, the real PostgreSQL and openstack-sim:
// what a user types, with the exit statuses and the output a script would read.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* stack_template = R"({
  "name": "ctl-stack",
  "description": "orchctl test stack",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 2}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"web": "10.0.1.0/24"},
                     "router": true, "external_network": "public"}
})";

/// What one orchctl run printed (stdout and stderr together) and how it exited.
struct run_result {
  int status = -1;
  std::string output;
};

/// openstack-sim, the orchestrator on it, and a way to run orchctl against both.
class ctl_fixture {
public:
  explicit ctl_fixture(std::vector<std::string> sim_args = {},
                       const std::string& boot_time = "fixed:300ms") {
    std::vector<std::string> argv{ORCH_SIM_BIN, "--port", "0", "--boot-time", boot_time};
    argv.insert(argv.end(), sim_args.begin(), sim_args.end());
    sim_ = std::make_unique<child_process>(
      argv, std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}}, "orchctl-sim.log");
    if (!sim_->wait_for_log("http://", 30s))
      throw std::runtime_error("openstack-sim did not start:\n" + sim_->log());
    auto log = sim_->log();
    auto at = log.find("http://");
    auto sim_url = log.substr(at, log.find_first_of("\r\n", at) - at);
    port_ = free_port();
    auto& env = env_;
    env = base_env();
    env["LOG_LEVEL"] = "info";
    env["DATABASE_URL"] = db_.url();
    env["API_PORT"] = std::to_string(port_);
    env["RATE_LIMIT_PER_MINUTE"] = "1000000";
    env["OPENSTACK_AUTH_URL"] = sim_url + "/identity/v3";
    env["OPENSTACK_USERNAME"] = "admin";
    env["OPENSTACK_PASSWORD"] = "secret";
    env["OPENSTACK_PROJECT_NAME"] = "admin";
    start_orchestrator();
    url_ = "http://127.0.0.1:" + std::to_string(port_);
  }

  /// Stops the orchestrator (which must exit 0 on SIGTERM) and starts it again on the same
  /// port, database and cloud.
  void restart_orchestrator() {
    auto rc = orchestrator_->stop(SIGTERM, 20s);
    BOOST_CHECK_MESSAGE(rc == 0, "orchestrator exited with " << rc << " on SIGTERM");
    start_orchestrator();
  }

  /// Starts orchctl with `args` without waiting for it.
  std::unique_ptr<child_process> start_ctl(std::vector<std::string> args,
                                           const std::string& key = write_key) {
    args.insert(args.begin(), ORCH_ORCHCTL_BIN);
    std::map<std::string, std::string> env{{"PATH", "/usr/bin:/bin"},
                                           {"ORCH_URL", url_},
                                           {"ORCH_API_KEY", key},
                                           {"HOME", "/nonexistent"}};
    return std::make_unique<child_process>(args, env,
                                           "orchctl-run-" + std::to_string(++runs_) + ".log");
  }

  ~ctl_fixture() {
    auto rc = orchestrator_->stop(SIGTERM, 20s);
    BOOST_CHECK_MESSAGE(rc == 0, "orchestrator exited with " << rc << " on SIGTERM");
    sim_->stop(SIGTERM, 10s);
  }

  /// Runs orchctl with `args`, ORCH_URL and ORCH_API_KEY set (stdout is a file, not a
  /// terminal), and waits for it.
  run_result ctl(std::vector<std::string> args, const std::string& key = write_key,
                 std::chrono::seconds patience = 120s) {
    auto command = args.empty() ? std::string{} : args[0];
    auto proc = start_ctl(std::move(args), key);
    run_result out;
    out.status = proc->wait(patience);
    out.output = proc->log();
    BOOST_TEST_MESSAGE("orchctl " << command << " -> " << out.status << "\n" << out.output);
    return out;
  }

  /// Writes `text` to a file of this test and returns its path.
  std::string file(const std::string& name, const std::string& text) {
    std::ofstream out{name};
    out << text;
    return std::filesystem::absolute(name).string();
  }

private:
  void start_orchestrator() {
    orchestrator_ = std::make_unique<child_process>(
      std::vector<std::string>{ORCH_ORCHESTRATOR_BIN, "serve"}, env_,
      "orchctl-orchestrator-" + std::to_string(port_) + "-" + std::to_string(++starts_) + ".log");
    if (!orchestrator_->wait_for_log("listening on", 60s))
      throw std::runtime_error("orchestrator did not start:\n" + orchestrator_->log());
  }

  scratch_database db_;
  std::map<std::string, std::string> env_;
  int starts_ = 0;
  std::unique_ptr<child_process> sim_;
  std::unique_ptr<child_process> orchestrator_;
  uint16_t port_ = 0;
  std::string url_;
  int runs_ = 0;
};

std::string str(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "";
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

/// The lines of `text` that look like event lines (`10:30:01  #12  ...`).
std::vector<std::string> event_lines(const std::string& text) {
  static const std::regex line{R"((^|\n)(\d\d:\d\d:\d\d  #\d+  [^\n]*))"};
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[2].str());
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(orchctl)

BOOST_AUTO_TEST_CASE(a_deployment_is_applied_followed_planned_scaled_and_deleted) {
  ctl_fixture fx;
  auto tpl = fx.file("ctl-stack.json", stack_template);
  auto applied = fx.ctl({"template", "apply", "-f", tpl});
  BOOST_TEST(applied.status == 0);
  BOOST_TEST(contains(applied.output, "template ctl-stack created"));
  auto again = fx.ctl({"template", "apply", "-f", tpl});
  BOOST_TEST(again.status == 0);
  BOOST_TEST(contains(again.output, "template ctl-stack updated"));

  // deploy --wait, not on a terminal: one plain line per event, then the outcome.
  auto deployed = fx.ctl({"deploy", "ctl-app", "--template", "ctl-stack", "--wait"});
  BOOST_TEST(deployed.status == 0);
  auto lines = event_lines(deployed.output);
  BOOST_TEST(lines.size() >= 8u);
  BOOST_TEST(contains(deployed.output, "operation deploy started"));
  BOOST_TEST(contains(deployed.output, "ready server ctl-app-web-1 ACTIVE"));
  BOOST_TEST(contains(deployed.output, "ctl-app COMPLETED: succeeded after"));
  BOOST_TEST(contains(deployed.output, "(7/7 resources)"));
  BOOST_TEST(!contains(deployed.output, "\r"), "no progress redraws off a terminal");

  // get by name, list by status, and -o json that parses.
  auto got = fx.ctl({"get", "ctl-app"});
  BOOST_TEST(got.status == 0);
  BOOST_TEST(contains(got.output, "Status      COMPLETED"));
  BOOST_TEST(contains(got.output, "ctl-app-web-2"));
  auto listed = fx.ctl({"list", "--status", "COMPLETED"});
  BOOST_TEST(listed.status == 0);
  BOOST_TEST(contains(listed.output, "ctl-app"));
  auto none = fx.ctl({"list", "--status", "FAILED"});
  BOOST_TEST(none.status == 0);
  BOOST_TEST(!contains(none.output, "ctl-app"));
  auto as_json = fx.ctl({"get", "ctl-app", "-o", "json"});
  BOOST_TEST(as_json.status == 0);
  auto doc = parse_json(as_json.output);
  BOOST_TEST(str(doc, "status") == "COMPLETED");
  BOOST_TEST(str(doc, "name") == "ctl-app");
  auto id = str(doc, "id");
  auto list_json = parse_json(fx.ctl({"list", "-o", "json"}).output);
  BOOST_TEST(list_json["items"].Size() == 1u);

  // plan shows the diff and changes nothing.
  auto before = fx.ctl({"get", id, "-o", "json"}).output;
  auto planned = fx.ctl({"plan", id, "--param", "web_count=3"});
  BOOST_TEST(planned.status == 0);
  BOOST_TEST(contains(planned.output, "+ create vm ctl-app-web-3 (group web)"));
  BOOST_TEST(contains(planned.output, "1 to create, 0 to change, 0 to remove."));
  auto after = fx.ctl({"get", id, "-o", "json"}).output;
  BOOST_TEST(parse_json(after)["resources"]["vms"].Size() == 2u);
  BOOST_TEST(str(parse_json(after), "updated_at") == str(parse_json(before), "updated_at"));

  // scale --wait, then scale back in without waiting and follow the events to the end.
  auto scaled = fx.ctl({"scale", id, "web", "3", "--wait"});
  BOOST_TEST(scaled.status == 0);
  BOOST_TEST(contains(scaled.output, "operation scale started"));
  BOOST_TEST(contains(scaled.output, "ready server ctl-app-web-3 ACTIVE"));
  BOOST_TEST(contains(scaled.output, "succeeded after"));
  BOOST_TEST(!contains(scaled.output, "operation deploy started"), "only the new events");
  BOOST_TEST(parse_json(fx.ctl({"get", id, "-o", "json"}).output)["resources"]["vms"].Size() == 3u);
  auto shrink = fx.ctl({"scale", id, "web", "1", "--wait"});
  BOOST_TEST(shrink.status == 0);
  BOOST_TEST(contains(shrink.output, "deleted server ctl-app-web-3"));
  BOOST_TEST(contains(shrink.output, "ctl-app COMPLETED: succeeded after"));
  BOOST_TEST(parse_json(fx.ctl({"get", id, "-o", "json"}).output)["resources"]["vms"].Size() == 1u);

  // events --follow on a deployment being deployed (PENDING as soon as it is accepted) ends
  // with its deploy, the history first.
  BOOST_TEST(fx.ctl({"deploy", "ctl-follow", "--template", "ctl-stack"}).status == 0);
  auto followed = fx.ctl({"events", "ctl-follow", "--follow"});
  BOOST_TEST(followed.status == 0);
  auto follow_lines = event_lines(followed.output);
  BOOST_REQUIRE(!follow_lines.empty());
  BOOST_TEST(contains(follow_lines.front(), "#1  operation deploy started"));
  BOOST_TEST(contains(followed.output, "operation finished: succeeded"));
  BOOST_TEST(contains(followed.output, "status IN_PROGRESS -> COMPLETED"));
  BOOST_TEST(fx.ctl({"delete", "ctl-follow", "--wait"}).status == 0);

  // events without --follow, as JSON.
  auto trail = parse_json(fx.ctl({"events", id, "-o", "json"}).output);
  BOOST_TEST(trail.IsArray());
  BOOST_TEST(trail.Size() >= lines.size());

  auto deleted = fx.ctl({"delete", "ctl-app", "--wait"});
  BOOST_TEST(deleted.status == 0);
  BOOST_TEST(contains(deleted.output, "operation delete started"));
  BOOST_TEST(contains(deleted.output, "DELETED"));
  BOOST_TEST(str(parse_json(fx.ctl({"get", id, "-o", "json"}).output), "status") == "DELETED");
  auto orphans = fx.ctl({"orphans"});
  BOOST_TEST(orphans.status == 0);
  BOOST_TEST(contains(orphans.output, "No orphans."));
}

BOOST_AUTO_TEST_CASE(api_errors_exit_3_with_the_problem_and_bad_usage_exits_2) {
  ctl_fixture fx;
  auto bad_key = fx.ctl({"list"}, "not-a-key-123456");
  BOOST_TEST(bad_key.status == 3);
  BOOST_TEST(contains(bad_key.output, "HTTP 401"));
  BOOST_TEST(contains(bad_key.output, "request_id: "));
  BOOST_TEST(!contains(bad_key.output, "not-a-key-123456"), "the key is never printed");
  auto read_only = fx.ctl({"deploy", "x", "--template", "ctl-stack"}, read_key);
  BOOST_TEST(read_only.status == 3);
  BOOST_TEST(contains(read_only.output, "HTTP 403"));
  auto unknown = fx.ctl({"get", "00000000-0000-0000-0000-000000000000"});
  BOOST_TEST(unknown.status == 3);
  BOOST_TEST(contains(unknown.output, "HTTP 404"));
  auto invalid
    = fx.ctl({"deploy", "x", "--template", "no-such-template", "--param", "web_count=2"});
  BOOST_TEST(invalid.status == 3);
  BOOST_TEST(contains(invalid.output, "HTTP 422"));

  for (auto args :
       std::vector<std::vector<std::string>>{{"frobnicate"},
                                             {"deploy", "x"},
                                             {"scale", "x", "web"},
                                             {"scale", "x", "web", "many"},
                                             {"get", "x", "-o", "yaml"},
                                             {"deploy", "x", "--template", "t", "--param", "oops"},
                                             {"list", "--url", "ftp://nowhere"},
                                             {"template", "apply", "-f", "/nonexistent/t.json"}}) {
    auto r = fx.ctl(args);
    BOOST_TEST(r.status == 2, args[0] << ": " << r.output);
    BOOST_TEST(contains(r.output, "orchctl: "));
  }
  BOOST_TEST(fx.ctl({"help"}).status == 0);
  BOOST_TEST(contains(fx.ctl({"deploy", "--help"}).output, "usage: orchctl deploy NAME"));
  BOOST_TEST(contains(fx.ctl({"version"}).output, "orchctl "));
}

BOOST_AUTO_TEST_CASE(a_failed_deployment_exits_1_with_its_error) {
  // One instance of quota for two VMs: the second server cannot be created.
  ctl_fixture fx{{"--quota-instances", "1"}};
  BOOST_TEST(fx.ctl({"template", "apply", "-f", fx.file("ctl-stack.json", stack_template)}).status
             == 0);
  auto deployed = fx.ctl({"deploy", "ctl-fail", "--template", "ctl-stack", "--wait"});
  BOOST_TEST(deployed.status == 1);
  BOOST_TEST(contains(deployed.output, "ctl-fail FAILED: failed after"));
  BOOST_TEST(contains(deployed.output, "error: "));
  auto got = fx.ctl({"get", "ctl-fail"});
  BOOST_TEST(got.status == 0);
  BOOST_TEST(contains(got.output, "Status      FAILED"));
}

BOOST_AUTO_TEST_CASE(a_wait_survives_a_node_restart_without_losing_or_repeating_events) {
  // Servers take 3 s to boot: the restart falls in the middle of the deploy.
  ctl_fixture fx{{}, "fixed:3s"};
  BOOST_TEST(fx.ctl({"template", "apply", "-f", fx.file("ctl-stack.json", stack_template)}).status
             == 0);
  auto waiting = fx.start_ctl({"deploy", "ctl-resume", "--template", "ctl-stack", "--wait"});
  BOOST_REQUIRE(waiting->wait_for_log("created server ctl-resume-web-", 60s));
  // A follower too: it reads the history, then streams while the servers boot.
  auto following = fx.start_ctl({"events", "ctl-resume", "--follow"});
  BOOST_REQUIRE(following->wait_for_log("created server ctl-resume-web-", 30s));
  fx.restart_orchestrator();
  auto status = waiting->wait(120s);
  auto output = waiting->log();
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST(status == 0);
  BOOST_TEST(contains(output, "ctl-resume COMPLETED: succeeded after"));
  // Every seq once, in order, from 1: the stream resumed where it was cut.
  std::vector<int> seqs;
  for (auto& line : event_lines(output)) seqs.push_back(std::stoi(line.substr(line.find('#') + 1)));
  BOOST_REQUIRE(!seqs.empty());
  for (std::size_t i = 0; i < seqs.size(); ++i) BOOST_TEST(seqs[i] == static_cast<int>(i) + 1);
  // The follower ends with the deploy, having seen the same events.
  BOOST_TEST(following->wait(60s) == 0);
  auto followed = following->log();
  BOOST_TEST_MESSAGE(followed);
  BOOST_TEST(contains(followed, "ctl-resume COMPLETED: succeeded after"));
  BOOST_TEST(event_lines(followed) == event_lines(output));
}

BOOST_AUTO_TEST_SUITE_END()
