// The real playbook runner: ansible-runner as a child process, on local connections so that no
// SSH server is needed (tests/e2e covers SSH).

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "orch/actors/playbook_runner.hpp"

using namespace orch::actors;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct has_ansible_runner {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result result{access("/usr/bin/ansible-runner", X_OK) == 0};
    if (!result)
      result.message() << "skipped: /usr/bin/ansible-runner is missing (./dev deps installs it)";
    return result;
  }
};

struct runner_fixture {
  fs::path dir = fs::temp_directory_path() / ("orch-runner-" + std::to_string(getpid()));
  fs::path playbooks = dir / "playbooks";
  fs::path out = dir / "out";

  runner_fixture() {
    fs::create_directories(playbooks);
    fs::create_directories(out);
    std::ofstream{playbooks / "write.yml"} << R"(- hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Write the file
      ansible.builtin.copy:
        dest: "{{ out_dir }}/{{ inventory_hostname }}.conf"
        content: "port {{ app_port }}\n"
)";
    std::ofstream{playbooks / "slow.yml"} << R"(- hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Wait
      ansible.builtin.pause:
        seconds: 120
)";
  }

  ~runner_fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  ansible_runner_config config() {
    ansible_runner_config cfg;
    cfg.playbook_dir = playbooks.string();
    cfg.work_dir = dir.string();
    cfg.timeout = 5min;
    return cfg;
  }

  static playbook_run_result run(playbook_runner& uut, playbook_run_request req,
                                 std::chrono::seconds patience = 300s) {
    auto promise = std::make_shared<std::promise<playbook_run_result>>();
    auto result = promise->get_future();
    uut.start(std::move(req), [promise](playbook_run_result res) { promise->set_value(res); });
    BOOST_REQUIRE(result.wait_for(patience) == std::future_status::ready);
    return result.get();
  }

  std::string extra_vars() const {
    return R"({"app_port": 8080, "out_dir": ")" + out.string() + R"("})";
  }

  // Private data directories left in work_dir (each holds a copy of the SSH key).
  size_t leftovers() const {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator{dir})
      if (entry.path().filename().string().starts_with("orch-ansible-")) ++n;
    return n;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(ansible_runner, runner_fixture,
                         *boost::unit_test::precondition(has_ansible_runner{}))

BOOST_AUTO_TEST_CASE(a_run_applies_extra_vars_reports_per_host_and_cleans_up) {
  auto uut = make_ansible_runner(config());
  BOOST_TEST(uut->has_playbook("write.yml"));
  BOOST_TEST(!uut->has_playbook("missing.yml"));
  playbook_run_request req{"run-1", "write.yml", {{"local", {"127.0.0.1"}}}, extra_vars()};
  auto first = run(*uut, req);
  BOOST_TEST(to_string(first.outcome) == "finished");
  BOOST_TEST(first.exit_code == 0, first.output);
  BOOST_TEST(first.summary.succeeded());
  BOOST_REQUIRE_EQUAL(first.summary.hosts.size(), 1u);
  BOOST_TEST(first.summary.hosts[0].host == "127.0.0.1");
  BOOST_TEST(first.summary.changed() == 1);
  std::ifstream written{out / "127.0.0.1.conf"};
  std::string line;
  std::getline(written, line);
  BOOST_TEST(line == "port 8080");
  BOOST_TEST(first.output.find("PLAY RECAP") != std::string::npos);
  req.run_id = "run-2";
  auto second = run(*uut, req);
  BOOST_TEST(second.summary.succeeded());
  BOOST_TEST(second.summary.changed() == 0);
  BOOST_TEST(leftovers() == 0u);
}

BOOST_AUTO_TEST_CASE(extra_vars_are_data_never_a_command) {
  auto uut = make_ansible_runner(config());
  auto marker = dir / "pwned";
  playbook_run_request req{"run-3",
                           "write.yml",
                           {{"local", {"127.0.0.1"}}},
                           R"({"app_port": "$(touch )" + marker.string() + R"() `touch )"
                             + marker.string() + R"(`", "out_dir": ")" + out.string() + R"("})"};
  auto res = run(*uut, req);
  BOOST_TEST(res.summary.succeeded(), res.output);
  BOOST_TEST(!fs::exists(marker));
}

BOOST_AUTO_TEST_CASE(a_run_past_its_timeout_is_stopped) {
  auto cfg = config();
  cfg.timeout = 3s;
  auto uut = make_ansible_runner(cfg);
  auto started = std::chrono::steady_clock::now();
  auto res = run(*uut, {"run-4", "slow.yml", {{"local", {"127.0.0.1"}}}, "{}"}, 60s);
  BOOST_TEST(to_string(res.outcome) == "timed_out");
  BOOST_TEST(!res.summary.succeeded());
  BOOST_TEST((std::chrono::steady_clock::now() - started < 60s));
  BOOST_TEST(leftovers() == 0u);
}

BOOST_AUTO_TEST_CASE(cancel_stops_a_run) {
  auto uut = make_ansible_runner(config());
  auto promise = std::make_shared<std::promise<playbook_run_result>>();
  auto result = promise->get_future();
  uut->start({"run-5", "slow.yml", {{"local", {"127.0.0.1"}}}, "{}"},
             [promise](playbook_run_result res) { promise->set_value(res); });
  std::this_thread::sleep_for(2s);
  uut->cancel("run-5");
  BOOST_REQUIRE(result.wait_for(60s) == std::future_status::ready);
  BOOST_TEST(to_string(result.get().outcome) == "cancelled");
}

// A process killed during a run leaves its private data directory (with the key copy); the
// restarted node cancels the run it finds interrupted, which takes that directory away.
BOOST_AUTO_TEST_CASE(cancelling_a_run_a_dead_process_left_removes_its_directory) {
  for (auto name : {"orch-ansible-run-7-Ab12Cd", "orch-ansible-run-77-Xy34Zw"}) {
    fs::create_directories(dir / name / "env");
    std::ofstream{dir / name / "env" / "ssh_key"} << "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  }
  auto uut = make_ansible_runner(config());
  uut->cancel("run-7");
  BOOST_TEST(!fs::exists(dir / "orch-ansible-run-7-Ab12Cd"));
  BOOST_TEST(fs::exists(dir / "orch-ansible-run-77-Xy34Zw" / "env" / "ssh_key"));
}

BOOST_AUTO_TEST_CASE(a_missing_program_fails_the_run_without_hanging) {
  auto cfg = config();
  cfg.program = (dir / "no-such-ansible-runner").string();
  auto uut = make_ansible_runner(cfg);
  auto res = run(*uut, {"run-6", "write.yml", {{"local", {"127.0.0.1"}}}, "{}"}, 60s);
  BOOST_TEST(res.exit_code == 127);
  BOOST_TEST(!res.summary.succeeded());
  BOOST_TEST(res.output.find("could not be executed") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
