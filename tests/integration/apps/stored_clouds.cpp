#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orch/secret_keyring.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using namespace std::chrono_literals;
using boost::beast::http::verb;

namespace {

// Distinctive, so that finding them anywhere in a dump or a log means a leak.
constexpr const char* region_b_password = "canary-Pw-2f9c81e7d3a4";
constexpr const char* spare_password = "spare-canary-pw-77ab19c4";

constexpr const char* template_json = R"({
  "name": "two-region-stack",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 2}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"web": "10.0.1.0/24"}}
})";

std::string str(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : std::string{};
}

/// `openstack-sim` on a port of its own.
class simulator {
public:
  simulator(const std::string& name, std::vector<std::string> flags) {
    std::vector<std::string> argv{ORCH_SIM_BIN, "--port", "0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    process_ = std::make_unique<child_process>(
      argv, std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}},
      "stored-clouds-sim-" + name + ".log");
    if (!process_->wait_for_log("http://", 30s))
      throw std::runtime_error("openstack-sim did not start:\n" + process_->log());
    auto log = process_->log();
    auto at = log.find("http://");
    auto end = log.find_first_of("\r\n", at);
    url_ = log.substr(at, end == std::string::npos ? std::string::npos : end - at);
    port_ = static_cast<uint16_t>(std::stoi(url_.substr(url_.rfind(':') + 1)));
  }

  ~simulator() { process_->stop(SIGTERM, 10s); }

  std::string auth_url() const { return url_ + "/identity/v3"; }

  /// Servers tagged as belonging to deployment `id`.
  int servers_of(const std::string& id) const {
    http_client client{"127.0.0.1", port_, 15s};
    auto doc = parse_json(client.get("/_sim/state").body());
    int count = 0;
    for (const auto& s : doc["servers"].GetArray())
      if (s.HasMember("tags") && s["tags"].IsArray())
        for (const auto& t : s["tags"].GetArray())
          if (t.IsString() && std::string{t.GetString()} == "orch-deployment=" + id) ++count;
    return count;
  }

private:
  std::unique_ptr<child_process> process_;
  std::string url_;
  uint16_t port_ = 0;
};

struct run_result {
  int status = -1;
  std::string output;
};

std::map<std::string, std::string> cli_env(const std::string& db_url) {
  auto env = base_env();
  env["DATABASE_URL"] = db_url;
  return env;
}

// Runs `orchestrator clouds <args>` with `secret` on its stdin (through sh, since the child
// gets no stdin of ours).
run_result clouds(const std::map<std::string, std::string>& env, std::vector<std::string> args,
                  const std::string& stdin_text = {}) {
  std::string command = "printf '%s' \"$CLOUD_SECRET\" | '" ORCH_ORCHESTRATOR_BIN "' clouds";
  for (const auto& a : args) command += " '" + a + "'";
  auto full_env = env;
  full_env["CLOUD_SECRET"] = stdin_text;
  static int n = 0;
  child_process p{
    {"/bin/sh", "-c", command}, full_env, "stored-clouds-cli-" + std::to_string(++n) + ".log"};
  auto rc = p.wait(60s);
  if (rc < 0) rc = p.stop(SIGKILL);
  return {rc, p.log()};
}

struct two_clouds_fixture {
  two_clouds_fixture()
    : sim_a("a", {"--seed", "1"}),
      sim_b("b", {"--seed", "2", "--users", std::string{"admin:"} + region_b_password + ":admin"}) {
    env = cli_env(db.url());
  }

  ~two_clouds_fixture() {
    if (orchestrator) {
      auto rc = orchestrator->stop(SIGTERM, 20s);
      BOOST_CHECK_MESSAGE(rc == 0, "orchestrator exited with " << rc << " on SIGTERM");
    }
  }

  std::map<std::string, std::string> serve_env(const std::string& secret_key) {
    port = free_port();
    auto e = env;
    e["SECRET_KEY"] = secret_key;
    e["API_PORT"] = std::to_string(port);
    e["OPENSTACK_AUTH_URL"] = sim_a.auth_url();
    e["OPENSTACK_USERNAME"] = "admin";
    e["OPENSTACK_PASSWORD"] = "secret";
    e["OPENSTACK_PROJECT_NAME"] = "admin";
    e["OPENSTACK_REGION"] = "RegionOne";
    return e;
  }

  void start_orchestrator() {
    orchestrator
      = std::make_unique<child_process>(std::vector<std::string>{ORCH_ORCHESTRATOR_BIN, "serve"},
                                        serve_env(secret_key), "stored-clouds-orchestrator.log");
    if (!orchestrator->wait_for_log("listening on", 60s))
      throw std::runtime_error("orchestrator did not start:\n" + orchestrator->log());
  }

  /// `orchestrator serve` that must refuse to start; answers its exit status and log.
  run_result failed_start(const std::string& secret_key) {
    child_process p{{ORCH_ORCHESTRATOR_BIN, "serve"},
                    serve_env(secret_key),
                    "stored-clouds-refused-" + std::to_string(port) + ".log"};
    auto rc = p.wait(60s);
    if (rc < 0) rc = p.stop(SIGKILL);
    return {rc, p.log()};
  }

  http_response call(verb method, const std::string& target, std::string body = {}) const {
    http_client client{"127.0.0.1", port, 15s};
    return client.request(method, target, std::move(body), {{"X-API-Key", write_key}});
  }

  std::string wait_for_status(const std::string& id, const std::string& wanted) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    std::string status;
    while (std::chrono::steady_clock::now() < deadline) {
      status = str(parse_json(call(verb::get, "/deployments/" + id).body()), "status");
      if (status == wanted || status == "FAILED") return status;
      std::this_thread::sleep_for(100ms);
    }
    return status;
  }

  // Declared before the processes so that it is dropped after they are gone.
  scratch_database db;
  simulator sim_a;
  simulator sim_b;
  std::map<std::string, std::string> env;
  std::unique_ptr<child_process> orchestrator;
  uint16_t port = 0;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(stored_clouds, two_clouds_fixture)

BOOST_AUTO_TEST_CASE(a_deployment_in_a_stored_region_runs_on_that_cloud_only) {
  // Region B authenticates with an application credential, its secret piped on stdin.
  auto added = clouds(
    env, {"add", "RegionTwo", "--auth-url", sim_b.auth_url(), "--app-credential-id", "admin"},
    region_b_password);
  BOOST_REQUIRE_MESSAGE(added.status == 0, added.output);
  BOOST_TEST(added.output.find(region_b_password) == std::string::npos);
  auto again = clouds(
    env, {"add", "RegionTwo", "--auth-url", sim_b.auth_url(), "--app-credential-id", "admin"},
    region_b_password);
  BOOST_TEST(again.status == 2);
  BOOST_TEST(again.output.find("--replace") != std::string::npos, again.output);
  auto listed = clouds(env, {"list"});
  BOOST_REQUIRE_MESSAGE(listed.status == 0, listed.output);
  BOOST_TEST(listed.output.find("RegionTwo") != std::string::npos, listed.output);
  BOOST_TEST(listed.output.find(orch::secret_keyring::version_of(secret_key)) != std::string::npos);
  BOOST_TEST(listed.output.find(region_b_password) == std::string::npos);

  start_orchestrator();
  BOOST_REQUIRE(call(verb::post, "/templates", template_json).result_int() == 201);
  auto unknown = call(verb::post, "/deployments",
                      R"({"name": "nowhere", "template": "two-region-stack",
                          "cloud_region": "RegionThree"})");
  BOOST_TEST(unknown.result_int() == 422, unknown.body());
  auto created = call(verb::post, "/deployments",
                      R"({"name": "in-b", "template": "two-region-stack",
                          "cloud_region": "RegionTwo"})");
  BOOST_REQUIRE_MESSAGE(created.result_int() == 202, created.body());
  auto id = str(parse_json(created.body()), "id");
  BOOST_TEST(wait_for_status(id, "COMPLETED") == "COMPLETED");
  BOOST_TEST(sim_b.servers_of(id) == 2);
  BOOST_TEST(sim_a.servers_of(id) == 0);

  // The region is in use: removing it is refused, clearly.
  auto removed = clouds(env, {"remove", "RegionTwo"});
  BOOST_TEST(removed.status == 1);
  BOOST_TEST(removed.output.find("not DELETED") != std::string::npos, removed.output);
  BOOST_TEST(orchestrator->log().find(region_b_password) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(pg_dump_holds_no_plaintext_password_nor_token) {
  auto added = clouds(env,
                      {"add", "RegionTwo", "--auth-url", sim_b.auth_url(), "--username", "admin",
                       "--project", "admin"},
                      region_b_password);
  BOOST_REQUIRE_MESSAGE(added.status == 0, added.output);
  { std::ofstream{"stored-clouds-spare-password"} << spare_password << '\n'; }
  auto spare = clouds(env, {"add", "Spare", "--auth-url", sim_b.auth_url(), "--app-credential-id",
                            "spare-id", "--password-file", "stored-clouds-spare-password"});
  BOOST_REQUIRE_MESSAGE(spare.status == 0, spare.output);
  // A token has been issued and used before the dump.
  start_orchestrator();
  BOOST_REQUIRE(call(verb::post, "/templates", template_json).result_int() == 201);
  auto created = call(verb::post, "/deployments",
                      R"({"name": "in-b", "template": "two-region-stack",
                          "cloud_region": "RegionTwo"})");
  BOOST_REQUIRE_MESSAGE(created.result_int() == 202, created.body());
  BOOST_TEST(wait_for_status(str(parse_json(created.body()), "id"), "COMPLETED") == "COMPLETED");

  child_process dump{{"/usr/bin/pg_dump", "--no-owner", db.url()},
                     {{"PATH", "/usr/bin:/bin"}},
                     "stored-clouds-pg_dump.sql"};
  BOOST_REQUIRE(dump.wait(60s) == 0);
  auto text = dump.log();
  // The dump is real: it holds the clouds rows.
  BOOST_TEST(text.find("COPY public.clouds") != std::string::npos);
  BOOST_TEST(text.find(sim_b.auth_url()) != std::string::npos);
  BOOST_TEST(text.find(region_b_password) == std::string::npos);
  BOOST_TEST(text.find(spare_password) == std::string::npos);
  // Keystone tokens of the simulator (Fernet-like) start so.
  BOOST_TEST(text.find("gAAAAA") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(rotation_reencrypts_and_an_unknown_key_stops_the_start) {
  auto added = clouds(env,
                      {"add", "RegionTwo", "--auth-url", sim_b.auth_url(), "--username", "admin",
                       "--project", "admin"},
                      region_b_password);
  BOOST_REQUIRE_MESSAGE(added.status == 0, added.output);
  const std::string new_key = "it-rotated-secret-key-abcdef";
  auto old_version = orch::secret_keyring::version_of(secret_key);
  auto new_version = orch::secret_keyring::version_of(new_key);

  // With only the new key the stored secret does not open: the start stops, naming the region
  // and the key version.
  auto refused = failed_start(new_key);
  BOOST_TEST(refused.status == 2, refused.output);
  BOOST_TEST(refused.output.find("RegionTwo") != std::string::npos, refused.output);
  BOOST_TEST(refused.output.find(old_version) != std::string::npos, refused.output);
  BOOST_TEST(refused.output.find(region_b_password) == std::string::npos);
  BOOST_TEST(refused.output.find(new_key) == std::string::npos);

  auto rotated_env = env;
  rotated_env["SECRET_KEY"] = new_key;
  rotated_env["SECRET_KEY_PREVIOUS"] = secret_key;
  auto reencrypted = clouds(rotated_env, {"reencrypt"});
  BOOST_REQUIRE_MESSAGE(reencrypted.status == 0, reencrypted.output);
  BOOST_TEST(reencrypted.output.find("re-sealed 1 region(s) with key version " + new_version)
               != std::string::npos,
             reencrypted.output);
  BOOST_TEST(db.query_value("SELECT key_version FROM clouds WHERE region = 'RegionTwo'")
             == new_version);
  auto twice = clouds(rotated_env, {"reencrypt"});
  BOOST_TEST(twice.output.find("re-sealed 0 region(s)") != std::string::npos, twice.output);

  // The same region in OPENSTACK_* and in the table is a clear error too.
  auto clash = clouds(rotated_env,
                      {"add", "RegionOne", "--auth-url", sim_b.auth_url(), "--username", "admin",
                       "--project", "admin"},
                      region_b_password);
  BOOST_REQUIRE_MESSAGE(clash.status == 0, clash.output);
  auto clashed = failed_start(new_key);
  BOOST_TEST(clashed.status == 2, clashed.output);
  BOOST_TEST(clashed.output.find("'RegionOne' is defined both by OPENSTACK_*") != std::string::npos,
             clashed.output);
  BOOST_TEST(clouds(rotated_env, {"remove", "RegionOne"}).status == 0);
}

BOOST_AUTO_TEST_SUITE_END()
