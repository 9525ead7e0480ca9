// Server-Sent Events against the real orchestrator, the real PostgreSQL and openstack-sim:
// resuming across a node restart, and many subscribers served by one read per notification.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using namespace std::chrono_literals;
using boost::beast::http::verb;

namespace {

constexpr const char* stack_template = R"({
  "name": "sse-stack",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 2}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"web": "10.0.1.0/24"},
                     "router": true, "external_network": "public"}
})";

std::string str(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : std::string{};
}

/// `openstack-sim` on a port of its own whose servers take `boot_time` to become ACTIVE.
class simulator {
public:
  explicit simulator(const std::string& boot_time) {
    process_ = std::make_unique<child_process>(
      std::vector<std::string>{ORCH_SIM_BIN, "--port", "0", "--boot-time", boot_time},
      std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}}, "event-streams-sim.log");
    if (!process_->wait_for_log("http://", 30s))
      throw std::runtime_error("openstack-sim did not start:\n" + process_->log());
    auto log = process_->log();
    auto at = log.find("http://");
    auto end = log.find_first_of("\r\n", at);
    url_ = log.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }

  ~simulator() { process_->stop(SIGTERM, 10s); }

  std::string auth_url() const { return url_ + "/identity/v3"; }

private:
  std::unique_ptr<child_process> process_;
  std::string url_;
};

/// The seqs of the complete events in what an SSE client received (chunk framing included), in
/// order. An event cut off by a dying node does not count: a client dispatches an event, and
/// takes its id as Last-Event-ID, only at the blank line that ends it.
std::vector<int64_t> event_ids(const std::string& received) {
  static const std::regex id_line{R"(id: (\d+)\nevent: [^\n]*\n(?:data: [^\n]*\n)+\n)"};
  std::vector<int64_t> out;
  for (auto it = std::sregex_iterator(received.begin(), received.end(), id_line);
       it != std::sregex_iterator(); ++it)
    out.push_back(std::stoll((*it)[1].str()));
  return out;
}

/// An orchestrator that can be killed and started again on the same database and cloud.
struct restart_fixture {
  restart_fixture() : sim("fixed:1500ms") {
    // nop
  }

  ~restart_fixture() {
    if (orchestrator) {
      auto rc = orchestrator->stop(SIGTERM, 20s);
      BOOST_CHECK_MESSAGE(rc == 0, "orchestrator exited with " << rc << " on SIGTERM");
    }
  }

  void start(int round, std::map<std::string, std::string> extra = {}) {
    port = free_port();
    auto env = base_env();
    env["LOG_LEVEL"] = "info";
    env["DATABASE_URL"] = db.url();
    env["API_PORT"] = std::to_string(port);
    env["RATE_LIMIT_PER_MINUTE"] = "1000000";
    env["OPENSTACK_AUTH_URL"] = sim.auth_url();
    env["OPENSTACK_USERNAME"] = "admin";
    env["OPENSTACK_PASSWORD"] = "secret";
    env["OPENSTACK_PROJECT_NAME"] = "admin";
    for (auto& [k, v] : extra) env[k] = v;
    orchestrator = std::make_unique<child_process>(
      std::vector<std::string>{ORCH_ORCHESTRATOR_BIN, "serve"}, env,
      "event-streams-orchestrator-" + std::to_string(round) + ".log");
    if (!orchestrator->wait_for_log("listening on", 60s))
      throw std::runtime_error("orchestrator did not start:\n" + orchestrator->log());
  }

  http_response call(verb method, const std::string& target, std::string body = {}) const {
    http_client client{"127.0.0.1", port, 15s};
    return client.request(method, target, std::move(body), {{"X-API-Key", write_key}});
  }

  std::string create_deployment(const std::string& name) {
    auto res = call(verb::post, "/deployments",
                    R"({"name": ")" + name
                      + R"(", "template": "sse-stack", "cloud_region": "RegionOne"})");
    BOOST_REQUIRE_MESSAGE(res.result_int() == 202, res.body());
    return str(parse_json(res.body()), "id");
  }

  /// Opens the event stream of `id` on a new connection, resuming after `last_event_id` when
  /// given.
  std::unique_ptr<raw_socket> open_stream(const std::string& id,
                                          const std::string& last_event_id = {}) const {
    auto sock = std::make_unique<raw_socket>("127.0.0.1", port);
    sock->send("GET /deployments/" + id + "/events HTTP/1.1\r\nHost: x\r\n"
               + "Accept: text/event-stream\r\nX-API-Key: " + read_key + "\r\n"
               + (last_event_id.empty() ? "" : "Last-Event-ID: " + last_event_id + "\r\n")
               + "\r\n");
    return sock;
  }

  /// Waits until deployment `id` is COMPLETED or FAILED and returns its status.
  std::string await_finished(const std::string& id, std::chrono::seconds patience = 120s) const {
    auto deadline = std::chrono::steady_clock::now() + patience;
    std::string status;
    while (std::chrono::steady_clock::now() < deadline) {
      auto res = call(verb::get, "/deployments/" + id);
      if (res.result_int() == 200) status = str(parse_json(res.body()), "status");
      if (status == "COMPLETED" || status == "FAILED") return status;
      std::this_thread::sleep_for(200ms);
    }
    return status;
  }

  /// The seqs of `GET /deployments/{id}/events`, oldest first.
  std::vector<int64_t> stored_seqs(const std::string& id) const {
    auto doc = parse_json(call(verb::get, "/deployments/" + id + "/events").body());
    std::vector<int64_t> out;
    for (const auto& ev : doc.GetArray()) out.push_back(ev["seq"].GetInt64());
    return out;
  }

  /// The value of the sample `name` (with its labels, as printed) in `GET /metrics`; -1 when
  /// absent.
  double metric(const std::string& sample) const {
    auto text = call(verb::get, "/metrics").body();
    auto at = text.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + sample.size() + 2));
  }

  scratch_database db;
  simulator sim;
  std::unique_ptr<child_process> orchestrator;
  uint16_t port = 0;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_streams, restart_fixture)

BOOST_AUTO_TEST_CASE(a_stream_resumed_with_last_event_id_after_a_restart_has_no_gap) {
  start(0);
  BOOST_REQUIRE_EQUAL(call(verb::post, "/templates", stack_template).result_int(), 201u);
  auto id = create_deployment("resumed");
  auto before = open_stream(id);
  // The network's events come within milliseconds; the boots take 1.5 s more.
  before->read_until("id: 3\n", 15s);
  auto first_part = event_ids(before->received());
  BOOST_REQUIRE(!first_part.empty());
  auto rc = orchestrator->stop(SIGKILL, 10s);
  BOOST_REQUIRE(rc == 128 + SIGKILL);
  orchestrator.reset();
  // Whatever the killed node had sent but the socket had not delivered yet is read now.
  before->wait_closed(5s);
  first_part = event_ids(before->received());
  BOOST_TEST_MESSAGE("read " << first_part.size() << " events before the kill, last "
                             << first_part.back());

  start(1);
  auto after = open_stream(id, std::to_string(first_part.back()));
  BOOST_REQUIRE(await_finished(id) == "COMPLETED");
  auto stored = stored_seqs(id);
  BOOST_REQUIRE(!stored.empty());
  after->read_until("id: " + std::to_string(stored.back()) + "\n", 15s);
  auto second_part = event_ids(after->received());

  std::vector<int64_t> all = first_part;
  all.insert(all.end(), second_part.begin(), second_part.end());
  std::vector<int64_t> expected;
  for (int64_t seq = 1; seq <= stored.back(); ++seq) expected.push_back(seq);
  BOOST_TEST(all == expected, boost::test_tools::per_element());
  BOOST_TEST(all == stored, boost::test_tools::per_element());
  BOOST_TEST(after->received().find("\"to\":\"COMPLETED\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(two_hundred_subscribers_cost_one_read_per_notification) {
  constexpr int deployment_count = 5;
  constexpr int subscribers = 200;
  start(0, {{"DATABASE_POOL_SIZE", "4"}, {"DATABASE_API_POOL_SIZE", "4"}});
  BOOST_REQUIRE_EQUAL(call(verb::post, "/templates", stack_template).result_int(), 201u);
  std::vector<std::string> ids;
  for (int i = 0; i < deployment_count; ++i)
    ids.push_back(create_deployment("many-" + std::to_string(i)));
  std::vector<std::unique_ptr<raw_socket>> streams;
  for (int i = 0; i < subscribers; ++i) streams.push_back(open_stream(ids[i % deployment_count]));
  // Every stream is open and caught up with its deployment's first event.
  for (auto& s : streams) s->read_until("id: 1\n", 15s);
  BOOST_TEST(metric("sse_subscribers") == subscribers);
  auto fetches_joined = metric("sse_fanout_fetches_total");
  auto joined_at = std::chrono::steady_clock::now();

  int64_t stored_events = 0;
  for (const auto& id : ids) {
    BOOST_TEST(await_finished(id) == "COMPLETED", id);
    stored_events += stored_seqs(id).back();
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - joined_at);
  for (int i = 0; i < subscribers; ++i) {
    streams[i]->read_until("\"to\":\"COMPLETED\"", 15s);
    auto seqs = event_ids(streams[i]->received());
    auto stored = stored_seqs(ids[i % deployment_count]);
    // A stream read up to COMPLETED may not have the events committed after it yet.
    BOOST_REQUIRE(seqs.size() <= stored.size());
    stored.resize(seqs.size());
    BOOST_TEST(seqs == stored, "stream " << i);
  }
  auto fetches = metric("sse_fanout_fetches_total") - fetches_joined;
  // At most one read per stored event (one notification per committed batch) plus one safety
  // poll per deployment every 2 s: nothing here grows with the 200 subscribers. Polling per
  // subscriber every 250 ms would have taken 200 × 4 × elapsed reads.
  auto bound = static_cast<double>(stored_events) + deployment_count * (elapsed.count() / 2 + 2);
  BOOST_TEST_MESSAGE(fetches << " event reads for " << subscribers << " subscribers, "
                             << stored_events << " events, " << elapsed.count() << " s (bound "
                             << bound << ")");
  BOOST_TEST(fetches <= bound);
  BOOST_TEST(metric(R"(database_pool_timeouts_total{pool="engine"})") == 0);
  BOOST_TEST(metric(R"(database_pool_size{pool="api"})") == 4);
}

BOOST_AUTO_TEST_CASE(engine_commits_never_wait_for_a_saturated_api_pool) {
  start(0, {{"DATABASE_POOL_SIZE", "2"}, {"DATABASE_API_POOL_SIZE", "2"}});
  BOOST_REQUIRE_EQUAL(call(verb::post, "/templates", stack_template).result_int(), 201u);
  auto id = create_deployment("undisturbed");
  // Every template read now hangs on its API connection until the lock goes away.
  pqxx::connection locker{db.url()};
  pqxx::work lock_tx{locker};
  lock_tx.exec("LOCK TABLE deployment_templates IN ACCESS EXCLUSIVE MODE");
  std::vector<std::unique_ptr<raw_socket>> readers;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(std::make_unique<raw_socket>("127.0.0.1", port));
    readers.back()->send(std::string{"GET /templates HTTP/1.1\r\nHost: x\r\nX-API-Key: "} + read_key
                         + "\r\n\r\n");
  }
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (metric(R"(database_pool_waiting{pool="api"})") < 1
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  BOOST_REQUIRE_MESSAGE(metric(R"(database_pool_connections_in_use{pool="api"})") == 2,
                        "the API pool is saturated");
  // The engine carries on regardless; its state is read from PostgreSQL directly, since the
  // API cannot answer reads that miss its cache now.
  deadline = std::chrono::steady_clock::now() + 60s;
  std::string status;
  while (std::chrono::steady_clock::now() < deadline) {
    status = db.query_value("SELECT status FROM deployments WHERE id = '" + id + "'");
    if (status == "COMPLETED" || status == "FAILED") break;
    std::this_thread::sleep_for(200ms);
  }
  BOOST_TEST(status == "COMPLETED");
  BOOST_TEST(metric(R"(database_pool_timeouts_total{pool="engine"})") == 0);
  lock_tx.abort();
  // Released, the readers get their answers.
  for (auto& r : readers) BOOST_TEST(r->read_until("\r\n\r\n", 15s).find("HTTP/1.1 ") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
