// --ssh-backing: an ACTIVE simulated server answers real SSH on its fixed loopback address with
// the authorised keys, and stops answering once deleted.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"
#include "orch/testing/child_process.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A /24 of this process's own (127.20-99.x.0/24): 127.0.0.0/8 is all loopback on Linux, and
// other suites and other runs on the machine use other ranges, so they never contend for the
// same address and port 22.
std::string suite_prefix() {
  auto pid = static_cast<unsigned>(getpid());
  return "127." + std::to_string(20 + pid % 80) + "." + std::to_string(pid / 80 % 250 + 1);
}

struct is_root {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result result{geteuid() == 0};
    if (!result)
      result.message() << "skipped: --ssh-backing binds port 22 and runs sshd, which needs root";
    return result;
  }
};

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("orch-ssh-backing-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

int run(const std::vector<std::string>& argv, const fs::path& log) {
  orch::testing::child_process proc{argv, {{"PATH", "/usr/bin:/bin"}}, log.string()};
  return proc.wait(30s);
}

std::string read_file(const fs::path& path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  return line;
}

bool port_open(const std::string& addr, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  close(fd);
  return ok;
}

struct ssh_fixture {
  fs::path dir = temp_dir();
  fs::path orch_key = dir / "orch_key";
  fs::path vm_key = dir / "vm_key";
  std::optional<sim_fixture> sim;

  ssh_fixture() {
    for (const auto& key : {orch_key, vm_key})
      BOOST_REQUIRE_EQUAL(
        run({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.string()},
            dir / "keygen.log"),
        0);
    ssh_backing_config backing;
    backing.run_dir = (dir / "sshd").string();
    backing.authorized_key = read_file(orch_key.string() + ".pub");
    service_options opts;
    opts.ssh_backing = backing;
    sim.emplace(http_test_config(), opts);
  }

  ~ssh_fixture() {
    sim.reset();
    fs::remove_all(dir);
  }

  int ssh(const fs::path& key, const std::string& addr, const std::string& command) {
    return run({"/usr/bin/ssh", "-i", key.string(), "-o", "BatchMode=yes", "-o",
                "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                "ConnectTimeout=10", "root@" + addr, command},
               dir / "ssh.log");
  }

  // Boots a server with keypair `vm` on a fresh network of `suite_prefix()`; returns id and
  // address.
  std::pair<std::string, std::string> boot() {
    auto& s = *sim;
    auto pub = read_file(vm_key.string() + ".pub");
    auto kp = s.call(verb::post, "/compute/v2.1/os-keypairs",
                     R"({"keypair":{"name":"vm","public_key":")" + pub + R"("}})");
    // 201 from microversion 2.2 on (the fixture speaks 2.90).
    BOOST_REQUIRE_EQUAL(kp.result_int(), 201u);
    auto net
      = str_at(s.json(verb::post, "/networking/v2.0/networks", R"({"network":{"name":"n"}})"),
               "/network/id");
    auto subnet = s.call(verb::post, "/networking/v2.0/subnets",
                         R"({"subnet":{"network_id":")" + net + R"(","ip_version":4,"cidr":")"
                           + suite_prefix() + R"(.0/24"}})");
    BOOST_REQUIRE_EQUAL(subnet.result_int(), 201u);
    auto img = str_at(s.json(verb::get, "/image/v2/images?name=cirros"), "/images/0/id");
    auto created = s.call(verb::post, "/compute/v2.1/servers",
                          R"({"server":{"name":"web-1","flavorRef":"1","imageRef":")" + img
                            + R"(","key_name":"vm","networks":[{"uuid":")" + net + R"("}]}})");
    BOOST_REQUIRE_EQUAL(created.result_int(), 202u);
    auto id = str_at(parse_json(created.body()), "/server/id");
    // Boot time is 0: the next call sees it ACTIVE and starts its sshd.
    auto server = s.json(verb::get, "/compute/v2.1/servers/" + id);
    BOOST_REQUIRE_EQUAL(str_at(server, "/server/status"), "ACTIVE");
    auto addr = str_at(server, "/server/addresses/n/0/addr");
    BOOST_REQUIRE(addr.starts_with(suite_prefix() + "."));
    return {id, addr};
  }
};

bool wait_until(const std::function<bool()>& ok) {
  for (int i = 0; i < 100; ++i) {
    if (ok()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(ssh_backing, *boost::unit_test::precondition(is_root{}))

BOOST_FIXTURE_TEST_CASE(an_active_server_answers_ssh_with_both_keys_until_deleted, ssh_fixture) {
  auto [id, addr] = boot();
  BOOST_REQUIRE(wait_until([&] { return port_open(addr, 22); }));
  BOOST_TEST(ssh(orch_key, addr, "true") == 0);
  BOOST_TEST(ssh(vm_key, addr, "echo ok > /dev/null") == 0);
  BOOST_TEST(sim->call(verb::delete_, "/compute/v2.1/servers/" + id).result_int() == 204u);
  sim->call(verb::get, "/compute/v2.1/servers");
  BOOST_TEST(wait_until([&] { return !port_open(addr, 22); }));
}

BOOST_FIXTURE_TEST_CASE(an_unknown_key_is_refused, ssh_fixture) {
  auto stranger = dir / "stranger";
  BOOST_REQUIRE_EQUAL(
    run({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger.string()},
        dir / "keygen.log"),
    0);
  auto [id, addr] = boot();
  BOOST_REQUIRE(wait_until([&] { return port_open(addr, 22); }));
  BOOST_TEST(ssh(stranger, addr, "true") == 255);
}

BOOST_AUTO_TEST_SUITE_END()
