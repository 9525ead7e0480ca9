#include "orch/cluster/membership.hpp"

#include <boost/test/unit_test.hpp>

#include <prometheus/registry.h>

#include "orch/errc.hpp"

using namespace std::chrono_literals;
using orch::uuid;

namespace {

/// Remembers what the membership asked of the engine.
struct fake_engine : orch::actors::node_engine {
  std::vector<uuid> running_ids;
  std::vector<uuid> started;
  std::vector<uuid> stopped;
  int stopped_all = 0;

  void start(const uuid& id) override { started.push_back(id); }
  void remove(const uuid&, orch::actors::engine_callback<orch::deployment_record> done) override {
    done(orch::make_error(orch::errc::unavailable, "fake"));
  }
  void update(const uuid&, orch::actors::deployment_change,
              orch::actors::engine_callback<orch::deployment_record> done) override {
    done(orch::make_error(orch::errc::unavailable, "fake"));
  }
  void running(orch::actors::engine_callback<std::vector<uuid>> done) override {
    done(running_ids);
  }
  void stop(std::vector<uuid> ids) override {
    stopped.insert(stopped.end(), ids.begin(), ids.end());
  }
  void stop_all() override { ++stopped_all; }
};

/// Answers heartbeats with what the test puts in `next`, or fails while `down`.
struct fake_repository : orch::persistence::cluster_repository {
  bool down = false;
  orch::persistence::heartbeat_result next;
  std::vector<orch::persistence::node_heartbeat> seen;
  std::vector<std::string> left;

  caf::expected<orch::persistence::heartbeat_result>
  heartbeat(const orch::persistence::node_heartbeat& hb) override {
    seen.push_back(hb);
    if (down) return orch::make_error(orch::errc::store_unavailable, "connection refused");
    return next;
  }
  caf::expected<int64_t> leave(const std::string& node_id) override {
    left.push_back(node_id);
    return int64_t{3};
  }
  caf::expected<std::vector<orch::persistence::node_entry>> nodes() override {
    orch::persistence::node_entry a;
    a.node_id = "a";
    a.heartbeat_age = 300ms;
    a.leases = 2;
    orch::persistence::node_entry b;
    b.node_id = "b";
    b.heartbeat_age = 30s;
    return std::vector<orch::persistence::node_entry>{a, b};
  }
};

struct membership_fixture {
  fake_engine engine;
  fake_repository repo;
  prometheus::Registry registry;
  orch::cluster::lease_guard::clock::time_point now{};
  std::unique_ptr<orch::cluster::membership> uut;

  membership_fixture() {
    orch::cluster::membership_config cfg;
    cfg.node_id = "a";
    cfg.api_address = "127.0.0.1:8000";
    cfg.timing = {1s, 10s};
    cfg.clock = [this] { return now; };
    uut = std::make_unique<orch::cluster::membership>(cfg, repo, engine, &registry);
  }

  double gauge(const std::string& name) {
    for (const auto& family : registry.Collect())
      if (family.name == name) return family.metric.at(0).gauge.value;
    return -1;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(membership, membership_fixture)

BOOST_AUTO_TEST_CASE(a_heartbeat_reports_the_running_deployments_and_renews_them) {
  auto x = uuid::random();
  engine.running_ids = {x};
  repo.next.leases = 1;
  repo.next.live_nodes = 2;
  BOOST_TEST(!uut->readiness().ok); // not joined yet
  uut->beat();
  BOOST_REQUIRE_EQUAL(repo.seen.size(), 1u);
  BOOST_TEST(repo.seen[0].joining);
  BOOST_TEST(repo.seen[0].node_id == "a");
  BOOST_TEST(repo.seen[0].running.size() == 1u);
  BOOST_TEST(repo.seen[0].lease == 10s);
  BOOST_TEST(uut->readiness().ok);
  BOOST_TEST(gauge("cluster_nodes") == 2.0);
  BOOST_TEST(gauge("cluster_leases_held") == 1.0);
  uut->beat();
  BOOST_TEST(!repo.seen[1].joining);
}

BOOST_AUTO_TEST_CASE(lost_leases_stop_their_actors_and_claimable_ones_start) {
  auto lost = uuid::random();
  auto orphaned = uuid::random();
  repo.next.lost = {lost};
  repo.next.claimable = {orphaned};
  uut->beat();
  BOOST_REQUIRE_EQUAL(engine.stopped.size(), 1u);
  BOOST_TEST((engine.stopped[0] == lost));
  BOOST_REQUIRE_EQUAL(engine.started.size(), 1u);
  BOOST_TEST((engine.started[0] == orphaned));
  BOOST_TEST(engine.stopped_all == 0);
}

BOOST_AUTO_TEST_CASE(a_node_cut_off_from_the_database_stops_before_its_leases_run_out) {
  uut->beat();
  repo.down = true;
  now += 1s;
  uut->beat();
  BOOST_TEST(engine.stopped_all == 0);
  BOOST_TEST(!uut->fenced());
  now += 4s;
  uut->beat();
  BOOST_TEST(!uut->readiness().ok); // failing, still within its lease
  BOOST_TEST(engine.stopped_all == 0);
  // Renewed at 0 s with a 10 s lease and a 2 s margin: it stops at 8 s, once.
  now += 3s;
  uut->beat();
  BOOST_TEST(engine.stopped_all == 1);
  BOOST_TEST(uut->fenced());
  now += 1s;
  uut->beat();
  BOOST_TEST(engine.stopped_all == 1);
  BOOST_TEST(uut->readiness().detail.find("fenced") != std::string::npos);
  // Back: it renews again and takes its deployments back through `claimable`.
  repo.down = false;
  repo.next.claimable = {uuid::random()};
  now += 1s;
  uut->beat();
  BOOST_TEST(!uut->fenced());
  BOOST_TEST(uut->readiness().ok);
  BOOST_TEST(engine.started.size() == 1u);
}

BOOST_AUTO_TEST_CASE(leaving_hands_the_leases_over) {
  auto n = uut->leave();
  BOOST_REQUIRE(n);
  BOOST_TEST(*n == 3);
  BOOST_REQUIRE_EQUAL(repo.left.size(), 1u);
  BOOST_TEST(repo.left[0] == "a");
}

BOOST_AUTO_TEST_CASE(describe_lists_the_nodes_with_their_state) {
  auto json = uut->describe();
  BOOST_REQUIRE(json);
  BOOST_TEST(json->find(R"("node_id":"a")") != std::string::npos);
  BOOST_TEST(json->find(R"("live_nodes":1)") != std::string::npos);
  BOOST_TEST(json->find(R"("state":"silent")") != std::string::npos);
  BOOST_TEST(json->find(R"("leases":2)") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
