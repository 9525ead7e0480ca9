#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using namespace std::chrono_literals;
using boost::beast::http::verb;

namespace {

constexpr int deployment_count = 20;
constexpr int vms_per_deployment = 5;
constexpr int kill_rounds = 5;
// The kill delay after a round's creates is log-uniform in [1 ms, 2 s]: the first milliseconds,
// where a create has been sent but not yet tagged or recorded, get as many kills as the seconds
// of booting that follow (a deployment here takes 5 boots of 200..1500 ms plus its network).
constexpr double min_kill_delay_ms = 1.0;
constexpr double max_kill_delay_ms = 2000.0;
constexpr auto completion_timeout = 120s;

constexpr const char* template_json = R"({
  "name": "crash-stack",
  "description": "one group of five VMs behind a routed subnet",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 5}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"web": "10.0.1.0/24"},
                     "router": true, "external_network": "public"}
})";

/// The seed of the kill moments: `ORCH_CRASH_SEED` replays a failed run.
uint64_t crash_seed() {
  if (const char* text = std::getenv("ORCH_CRASH_SEED"); text != nullptr && *text != '\0')
    return std::stoull(text);
  return std::random_device{}();
}

std::string str(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : std::string{};
}

/// The value of the `orch-deployment=<id>` tag, empty without one.
std::string owner_tag(const rapidjson::Value& resource) {
  static const std::string prefix = "orch-deployment=";
  if (!resource.HasMember("tags") || !resource["tags"].IsArray()) return {};
  for (const auto& t : resource["tags"].GetArray())
    if (t.IsString() && std::string{t.GetString()}.rfind(prefix, 0) == 0)
      return std::string{t.GetString()}.substr(prefix.size());
  return {};
}

/// `openstack-sim` on a port of its own, slow enough to boot that kills land mid-build.
class simulator {
public:
  explicit simulator(uint64_t seed) {
    process_ = std::make_unique<child_process>(
      std::vector<std::string>{ORCH_SIM_BIN, "--port", "0", "--seed", std::to_string(seed),
                               "--boot-time", "uniform:200ms..1500ms", "--quota-instances", "1000",
                               "--quota-cores", "4000", "--quota-ram", "10000000",
                               "--quota-networks", "200", "--quota-volumes", "1000"},
      std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}}, "crash-openstack-sim.log");
    if (!process_->wait_for_log("http://", 30s))
      throw std::runtime_error("openstack-sim did not start:\n" + process_->log());
    auto log = process_->log();
    auto at = log.find("http://");
    auto end = log.find_first_of("\r\n", at);
    url_ = log.substr(at, end == std::string::npos ? std::string::npos : end - at);
    auto colon = url_.rfind(':');
    port_ = static_cast<uint16_t>(std::stoi(url_.substr(colon + 1)));
  }

  ~simulator() { process_->stop(SIGTERM, 10s); }

  const std::string& url() const noexcept { return url_; }

  /// `GET /_sim/state`, parsed; also kept in crash-sim-state.json for a post-mortem.
  rapidjson::Document state() const {
    http_client client{"127.0.0.1", port_, 15s};
    auto res = client.get("/_sim/state");
    if (res.result_int() != 200)
      throw std::runtime_error("GET /_sim/state answered " + std::to_string(res.result_int()));
    std::ofstream{"crash-sim-state.json"} << res.body();
    return parse_json(res.body());
  }

  /// How often the cloud saw `method route` (a route pattern of `GET /_sim/calls`).
  int calls(const std::string& method, const std::string& route) const {
    http_client client{"127.0.0.1", port_, 15s};
    auto doc = parse_json(client.get("/_sim/calls").body());
    int count = 0;
    for (const auto& c : doc["calls"].GetArray())
      if (str(c, "method") == method && str(c, "route") == route) count += c["count"].GetInt();
    return count;
  }

private:
  std::unique_ptr<child_process> process_;
  std::string url_;
  uint16_t port_ = 0;
};

/// Twenty deployments of one template, an orchestrator killed with SIGKILL and restarted on the
/// same database and cloud again and again.
struct crash_fixture {
  crash_fixture() : seed(crash_seed()), rng(seed), sim(seed) {
    BOOST_TEST_MESSAGE("crash seed " << seed << " (replay with ORCH_CRASH_SEED=" << seed << ")");
  }

  ~crash_fixture() {
    if (orchestrator) {
      auto rc = orchestrator->stop(SIGTERM, 20s);
      BOOST_CHECK_MESSAGE(rc == 0, "orchestrator exited with " << rc << " on SIGTERM");
    }
  }

  /// Starts incarnation `round` of the orchestrator and waits until it listens.
  void start_orchestrator(int round) {
    port = free_port();
    auto env = base_env();
    env["LOG_LEVEL"] = "info";
    env["DATABASE_URL"] = db.url();
    env["API_PORT"] = std::to_string(port);
    env["RATE_LIMIT_PER_MINUTE"] = "1000000";
    env["OPENSTACK_AUTH_URL"] = sim.url() + "/identity/v3";
    env["OPENSTACK_USERNAME"] = "admin";
    env["OPENSTACK_PASSWORD"] = "secret";
    env["OPENSTACK_PROJECT_NAME"] = "admin";
    env["OPENSTACK_REGION"] = "RegionOne";
    orchestrator = std::make_unique<child_process>(
      std::vector<std::string>{ORCH_ORCHESTRATOR_BIN, "serve"}, env,
      "crash-orchestrator-" + std::to_string(round) + ".log");
    if (!orchestrator->wait_for_log("listening on", 60s))
      throw std::runtime_error("orchestrator round " + std::to_string(round) + " did not start:\n"
                               + orchestrator->log());
  }

  void kill_orchestrator() {
    auto rc = orchestrator->stop(SIGKILL, 10s);
    BOOST_TEST_REQUIRE(rc == 128 + SIGKILL);
    orchestrator.reset();
  }

  http_response call(verb method, const std::string& target, std::string body = {}) const {
    http_client client{"127.0.0.1", port, 15s};
    return client.request(method, target, std::move(body), {{"X-API-Key", write_key}});
  }

  /// Creates a deployment of the template and remembers its id.
  void post_deployment(const std::string& name) {
    auto res = call(verb::post, "/deployments",
                    R"({"name": ")" + name
                      + R"(", "template": "crash-stack", "cloud_region": "RegionOne"})");
    BOOST_TEST_REQUIRE(res.result_int() == 202, res.body());
    ids.push_back(str(parse_json(res.body()), "id"));
    BOOST_TEST_REQUIRE(!ids.back().empty());
  }

  /// Status of every deployment, keyed by id.
  std::map<std::string, std::string> statuses() const {
    std::map<std::string, std::string> out;
    for (const auto& id : ids) {
      auto res = call(verb::get, "/deployments/" + id);
      if (res.result_int() != 200)
        throw std::runtime_error("GET /deployments/" + id + " answered "
                                 + std::to_string(res.result_int()) + ": " + res.body());
      out[id] = str(parse_json(res.body()), "status");
    }
    return out;
  }

  uint64_t seed;
  std::mt19937_64 rng;
  // Declared before the processes so that it is dropped after they are gone.
  scratch_database db;
  simulator sim;
  std::unique_ptr<child_process> orchestrator;
  uint16_t port = 0;
  std::vector<std::string> ids;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(kill_during_deployments, crash_fixture)

BOOST_AUTO_TEST_CASE(sigkill_and_restart_leave_exactly_the_templated_servers) {
  start_orchestrator(0);
  auto created = call(verb::post, "/templates", template_json);
  BOOST_TEST_REQUIRE(created.result_int() == 201, created.body());

  // Every round adds its share of deployments, so each kill finds fresh work in flight (creates
  // sent but not yet recorded, boots pending) besides whatever earlier rounds left unfinished.
  std::uniform_real_distribution<double> log_delay{std::log(min_kill_delay_ms),
                                                   std::log(max_kill_delay_ms)};
  for (int round = 0; round < kill_rounds; ++round) {
    if (round > 0) start_orchestrator(round);
    for (int i = round * deployment_count / kill_rounds;
         i < (round + 1) * deployment_count / kill_rounds; ++i)
      post_deployment("crash-" + std::to_string(i));
    auto delay = std::chrono::milliseconds{std::lround(std::exp(log_delay(rng)))};
    // The random delay is what this test varies, not a wait for an event.
    std::this_thread::sleep_for(delay);
    kill_orchestrator();
    BOOST_TEST_MESSAGE("round " << round << ": SIGKILL after " << delay.count() << " ms, "
                                << db.query_value("SELECT count(*) FROM deployments WHERE status "
                                                  "= 'COMPLETED'")
                                << " of " << ids.size() << " deployments COMPLETED");
  }
  start_orchestrator(kill_rounds);

  auto deadline = std::chrono::steady_clock::now() + completion_timeout;
  std::map<std::string, std::string> last;
  for (;;) {
    last = statuses();
    // FAILED ends the wait too: it is terminal without a new request.
    bool done = true;
    for (const auto& [id, status] : last)
      if (status != "COMPLETED" && status != "FAILED") done = false;
    if (done || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(250ms);
  }
  for (const auto& [id, status] : last)
    BOOST_TEST_CHECK(status == "COMPLETED", "deployment "
                                              << id << " is " << status << ": "
                                              << call(verb::get, "/deployments/" + id).body());

  // More creates than servers show that kills interrupted creates the restarts had to reconcile.
  BOOST_TEST_MESSAGE("the cloud saw "
                     << sim.calls("POST", "/compute/v2.1/servers") << " server creates and "
                     << sim.calls("DELETE", "/compute/v2.1/servers/{id}") << " server deletes");
  auto st = sim.state();
  std::set<std::string> known(ids.begin(), ids.end());
  std::map<std::string, int> servers_of;
  std::set<std::string> names;
  for (const auto& s : st["servers"].GetArray()) {
    auto name = str(s, "name");
    auto owner = owner_tag(s);
    BOOST_TEST_CHECK(known.count(owner) == 1u,
                     "server " << name << " (" << str(s, "id") << ") has owner '" << owner << "'");
    BOOST_TEST_CHECK(names.insert(name).second, "duplicate server name " << name);
    BOOST_TEST_CHECK(str(s, "status") == "ACTIVE", "server " << name << " is " << str(s, "status"));
    ++servers_of[owner];
  }
  for (const auto& id : ids)
    BOOST_TEST_CHECK(servers_of[id] == vms_per_deployment,
                     "deployment " << id << " has " << servers_of[id] << " servers");
  // One network, subnet and router per deployment, all tagged: a kill between a create and its
  // tagging must not leave an orphan the next incarnation cannot find.
  for (const char* collection : {"networks", "subnets", "routers"}) {
    std::map<std::string, int> owned_by;
    for (const auto& r : st[collection].GetArray())
      if (str(r, "name").rfind("public", 0) != 0) ++owned_by[owner_tag(r)];
    for (const auto& id : ids)
      BOOST_TEST_CHECK(owned_by[id] == 1,
                       "deployment " << id << " has " << owned_by[id] << " " << collection);
    for (const auto& r : st[collection].GetArray())
      BOOST_TEST_CHECK((str(r, "name").rfind("public", 0) == 0 || !owner_tag(r).empty()),
                       collection << " " << str(r, "name") << " (" << str(r, "id")
                                  << ") carries no orch-deployment tag: " << str(r, "description"));
  }
  BOOST_TEST(st["servers"].Size()
             == static_cast<std::size_t>(deployment_count * vms_per_deployment));
}

BOOST_AUTO_TEST_SUITE_END()
