// Configure end to end: the orchestrator and the simulator as processes, the simulator's VMs
// reachable over real SSH (--ssh-backing, loopback addresses only), real ansible-runner.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "json.hpp"
#include "orch/testing/child_process.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using namespace std::chrono_literals;
using verb = boost::beast::http::verb;
namespace fs = std::filesystem;

namespace {

// A /24 of 127.0.0.0/8 of this process's own (127.100-199.x.0/24), so that runs of this suite
// on one machine at the same time (several worktrees, CI) do not contend for the same
// address and port 22; other suites use other ranges.
std::string loopback_prefix() {
  auto pid = static_cast<unsigned>(getpid());
  return "127." + std::to_string(100 + pid % 100) + "." + std::to_string(pid / 100 % 250 + 1);
}

std::string template_json(const std::string& prefix) {
  return R"({"name": "e2e-ssh",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 2},
                "db": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 1}},
  "network_config": {"cidr": ")"
         + prefix + R"(.0/24", "subnets": {"web": ")" + prefix + R"(.0/25", "db": ")" + prefix
         + R"(.128/25"}}})";
}

struct can_run {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result result{true};
    if (geteuid() != 0) {
      result = false;
      result.message() << "skipped: --ssh-backing binds port 22 and runs sshd, which needs root";
    }
    for (auto tool : {"/usr/sbin/sshd", "/usr/bin/ansible-runner", "/usr/bin/ssh"})
      if (access(tool, X_OK) != 0) {
        result = false;
        result.message() << "skipped: " << tool << " is missing (./dev deps installs it)";
      }
    return result;
  }
};

int run(const std::vector<std::string>& argv, const fs::path& log) {
  child_process p{argv, {{"PATH", "/usr/bin:/bin"}}, log.string()};
  return p.wait(60s);
}

struct sim_process {
  std::unique_ptr<child_process> proc;
  std::string url;

  sim_process(const fs::path& dir, const fs::path& public_key) {
    proc = std::make_unique<child_process>(
      std::vector<std::string>{ORCH_SIM_BIN, "--port", "0", "--ssh-backing",
                               (dir / "sshd").string(), "--ssh-authorized-key",
                               public_key.string()},
      std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}}, (dir / "sim.log").string());
    if (!proc->wait_for_log("http://", 30s))
      throw std::runtime_error("openstack-sim did not start:\n" + proc->log());
    auto log = proc->log();
    auto at = log.find("http://");
    url = log.substr(at, log.find('\n', at) - at);
  }

  // SIGTERM, so that the simulator stops its sshd daemons (child_process alone would SIGKILL).
  ~sim_process() { proc->stop(SIGTERM); }
};

struct e2e_fixture {
  fs::path dir = fs::temp_directory_path() / ("orch-e2e-configure-" + std::to_string(getpid()));
  fs::path key = dir / "id_ed25519";
  fs::path playbooks = dir / "playbooks";
  /// The orchestrator's TMPDIR: where ansible-runner's private data directories go.
  fs::path work = dir / "work";
  std::unique_ptr<sim_process> sim;
  std::unique_ptr<orchestrator_fixture> orch;
  std::string id;
  std::vector<std::string> web;
  std::string db;

  e2e_fixture() {
    fs::create_directories(playbooks);
    fs::create_directories(work);
    BOOST_REQUIRE_EQUAL(
      run({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.string()},
          dir / "keygen.log"),
      0);
    fs::copy_file(fs::path{ORCH_EXAMPLES_DIR} / "playbooks" / "configure-web.yml",
                  playbooks / "configure-web.yml");
    fs::copy_file(fs::path{ORCH_E2E_DIR} / "fail-on-one.yml", playbooks / "fail-on-one.yml");
    fs::copy_file(fs::path{ORCH_E2E_DIR} / "slow.yml", playbooks / "slow.yml");
    sim = std::make_unique<sim_process>(dir, key.string() + ".pub");
    orch = std::make_unique<orchestrator_fixture>(std::map<std::string, std::string>{
      {"OPENSTACK_AUTH_URL", sim->url + "/identity/v3"},
      {"OPENSTACK_USERNAME", "admin"},
      {"OPENSTACK_PASSWORD", "secret"},
      {"OPENSTACK_PROJECT_NAME", "admin"},
      {"ANSIBLE_PLAYBOOK_DIR", playbooks.string()},
      {"ANSIBLE_SSH_KEY_PATH", key.string()},
      {"ANSIBLE_TIMEOUT", "5m"},
      {"TMPDIR", work.string()},
    });
    BOOST_REQUIRE_EQUAL(
      orch->call(verb::post, "/templates", template_json(loopback_prefix())).result_int(), 201u);
    auto created
      = orch->call(verb::post, "/deployments",
                   R"({"name": "e2e-app", "template": "e2e-ssh", "cloud_region": "RegionOne"})");
    BOOST_REQUIRE_EQUAL(created.result_int(), 202u);
    id = parse_json(created.body())["id"].GetString();
    BOOST_REQUIRE_EQUAL(wait_while("PENDING|IN_PROGRESS"), "COMPLETED");
    auto doc = deployment();
    for (const auto& vm : doc["resources"]["vms"].GetArray()) {
      std::string addr = vm["addresses"][0].GetString();
      if (std::string{vm["group"].GetString()} == "web")
        web.push_back(addr);
      else
        db = addr;
    }
    BOOST_REQUIRE_EQUAL(web.size(), 2u);
    BOOST_REQUIRE(!db.empty());
  }

  ~e2e_fixture() {
    orch.reset();
    sim.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
    for (const auto& addr : web) fs::remove_all(fs::path{"/tmp/orch-configure"} / addr, ec);
    if (!db.empty()) fs::remove_all(fs::path{"/tmp/orch-configure"} / db, ec);
  }

  rapidjson::Document deployment() {
    auto res = orch->call(verb::get, "/deployments/" + id, {}, read_key);
    BOOST_REQUIRE_EQUAL(res.result_int(), 200u);
    return parse_json(res.body());
  }

  // Waits while the status is one of `busy` ("A|B"); answers the status it settled on.
  std::string wait_while(const std::string& busy) {
    auto deadline = std::chrono::steady_clock::now() + 300s;
    for (;;) {
      std::string status = deployment()["status"].GetString();
      if (("|" + busy + "|").find("|" + status + "|") == std::string::npos) return status;
      if (std::chrono::steady_clock::now() > deadline) return "still " + status;
      std::this_thread::sleep_for(500ms);
    }
  }

  rapidjson::Document configure(const std::string& body) {
    auto res = orch->call(verb::post, "/deployments/" + id + "/configure", body);
    BOOST_REQUIRE_MESSAGE(res.result_int() == 202u, res.body());
    auto doc = parse_json(res.body());
    BOOST_TEST(std::string{doc["status"].GetString()} == "CONFIGURING");
    return doc;
  }

  rapidjson::Document newest_run() {
    auto res
      = orch->call(verb::get, "/deployments/" + id + "/configurations?limit=1", {}, read_key);
    BOOST_REQUIRE_EQUAL(res.result_int(), 200u);
    auto doc = parse_json(res.body());
    BOOST_REQUIRE(doc["items"].Size() == 1u);
    rapidjson::Document run;
    run.CopyFrom(doc["items"][0], run.GetAllocator());
    return run;
  }

  /// Private data directories of run `run_id` in the orchestrator's TMPDIR.
  size_t run_directories(const std::string& run_id) const {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator{work})
      if (entry.path().filename().string().starts_with("orch-ansible-" + run_id + "-")) ++n;
    return n;
  }

  /// Processes whose command line carries `--ident <run_id>`: the run's ansible-runner.
  static size_t runner_processes(const std::string& run_id) {
    size_t n = 0;
    std::string needle = std::string{"--ident"} + '\0' + run_id + '\0';
    std::error_code ec;
    for (fs::directory_iterator i{"/proc", ec}, end; !ec && i != end; i.increment(ec)) {
      // A process may end while it is read: its cmdline then reads as an error.
      try {
        std::ifstream in{i->path() / "cmdline"};
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmdline.find(needle) != std::string::npos) ++n;
      } catch (const std::exception&) {
        // nop: gone, so not a runner any more
      }
    }
    return n;
  }

  std::string remote_file(const std::string& addr, const std::string& path) {
    auto log = dir / ("ssh-" + addr + ".log");
    fs::remove(log);
    auto rc = run({"/usr/bin/ssh", "-i", key.string(), "-o", "BatchMode=yes", "-o",
                   "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                   "LogLevel=ERROR", "root@" + addr, "cat", path},
                  log);
    std::ifstream in{log};
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return rc == 0 ? text : "ssh failed (" + std::to_string(rc) + "): " + text;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(configure, *boost::unit_test::precondition(can_run{}))

BOOST_FIXTURE_TEST_CASE(a_playbook_configures_every_vm_and_a_second_run_changes_nothing,
                        e2e_fixture) {
  configure(R"({"playbook": "configure-web.yml", "extra_vars": {"app_port": 8080}})");
  BOOST_REQUIRE_EQUAL(wait_while("CONFIGURING"), "COMPLETED");
  auto first = newest_run();
  BOOST_TEST(std::string{first["status"].GetString()} == "succeeded");
  BOOST_TEST(first["hosts"].MemberCount() == 3u);
  BOOST_TEST(first["changed"].GetInt() == 6); // two tasks on three hosts
  for (const auto& addr : {web[0], web[1], db})
    BOOST_TEST(remote_file(addr, "/tmp/orch-configure/" + addr + "/app.conf") == "listen 8080\n");
  configure(R"({"playbook": "configure-web.yml", "extra_vars": {"app_port": 8080}})");
  BOOST_REQUIRE_EQUAL(wait_while("CONFIGURING"), "COMPLETED");
  auto second = newest_run();
  BOOST_TEST(std::string{second["status"].GetString()} == "succeeded");
  BOOST_TEST(second["changed"].GetInt() == 0);
  auto doc = deployment();
  const auto& op = doc["operation"];
  BOOST_TEST(std::string{op["type"].GetString()} == "configure");
  BOOST_TEST(std::string{op["status"].GetString()} == "succeeded");
}

BOOST_FIXTURE_TEST_CASE(a_playbook_failing_on_one_host_fails_the_deployment_naming_it,
                        e2e_fixture) {
  configure(R"({"playbook": "fail-on-one.yml", "extra_vars": {"fail_host": ")" + web[1] + R"("}})");
  BOOST_REQUIRE_EQUAL(wait_while("CONFIGURING"), "FAILED");
  auto doc = deployment();
  std::string message = doc["operation"]["error"]["message"].GetString();
  BOOST_TEST(message.find(web[1]) != std::string::npos, message);
  BOOST_TEST(message.find("Refuse the chosen host") != std::string::npos, message);
  BOOST_TEST(message.find(web[0]) == std::string::npos, message);
  auto run = newest_run();
  BOOST_TEST(std::string{run["status"].GetString()} == "failed");
  BOOST_TEST(run["hosts"][web[1].c_str()]["failed"].GetInt() == 1);
  BOOST_TEST(run["hosts"][web[0].c_str()]["failed"].GetInt() == 0);
}

// A node killed during a run: its ansible-runner goes with it, and the restarted node records
// the run failed as interrupted, removes what it left on disk (a copy of the SSH key among it),
// returns the deployment to COMPLETED without running anything again by itself, and runs the
// next configure normally.
BOOST_FIXTURE_TEST_CASE(a_restart_during_a_run_marks_it_interrupted_and_the_next_run_works,
                        e2e_fixture) {
  configure(R"({"playbook": "slow.yml"})");
  std::string run_id = newest_run()["id"].GetString();
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (runner_processes(run_id) == 0 || run_directories(run_id) == 0) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "ansible-runner not seen");
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(2s); // into the play's task
  BOOST_TEST(orch->kill_and_restart() == 128 + SIGKILL);

  deadline = std::chrono::steady_clock::now() + 30s;
  while (runner_processes(run_id) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  BOOST_TEST(runner_processes(run_id) == 0u, "ansible-runner outlived its orchestrator");
  BOOST_REQUIRE_EQUAL(wait_while("CONFIGURING"), "COMPLETED");
  auto doc = deployment();
  BOOST_TEST(std::string{doc["operation"]["type"].GetString()} == "configure");
  BOOST_TEST(std::string{doc["operation"]["error"]["code"].GetString()}
             == "configuration_interrupted");
  // The run is recorded interrupted beside the deployment's own change, not before it.
  deadline = std::chrono::steady_clock::now() + 20s;
  while (std::string{newest_run()["status"].GetString()} == "running"
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  auto run = newest_run();
  BOOST_TEST(std::string{run["id"].GetString()} == run_id);
  BOOST_TEST(std::string{run["status"].GetString()} == "failed");
  BOOST_TEST(
    (run["failed_task"].IsString()
     && std::string{run["failed_task"].GetString()}.find("interrupted") != std::string::npos));
  // The restarted node cleans up as it records the run interrupted, beside the status change.
  deadline = std::chrono::steady_clock::now() + 20s;
  while (run_directories(run_id) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  BOOST_TEST(run_directories(run_id) == 0u, "the killed run's private directory is left");

  configure(R"({"playbook": "configure-web.yml", "extra_vars": {"app_port": 9090}})");
  BOOST_REQUIRE_EQUAL(wait_while("CONFIGURING"), "COMPLETED");
  BOOST_TEST(std::string{newest_run()["status"].GetString()} == "succeeded");
  BOOST_TEST(remote_file(web[0], "/tmp/orch-configure/" + web[0] + "/app.conf") == "listen 9090\n");
}

BOOST_AUTO_TEST_SUITE_END()
