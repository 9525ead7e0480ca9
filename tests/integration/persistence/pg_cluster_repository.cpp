#include "orch/persistence/cluster_repository.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "deployment_repository_contract.hpp"
#include "orch/errc.hpp"
#include "orch/persistence/pg_deployment_repository.hpp"
#include "orch/persistence/pool.hpp"
#include "test_database.hpp"

using namespace orch;
using namespace std::chrono_literals;
using orch::testing::global_database;
using orch::testing::must;

namespace {

struct cluster_fixture {
  cluster_fixture() : db(persistence::pool_config{global_database::get().url(), 4}) {
    global_database::get().exec("TRUNCATE deployment_events, deployment_snapshots, "
                                "idempotency_keys, deployments, cluster_nodes CASCADE");
    deployments = persistence::make_pg_deployment_repository(db);
    uut = persistence::make_pg_cluster_repository(db);
  }

  uuid create(const std::string& name) {
    auto rec = testing::sample_deployment(name);
    must(deployments->create(rec, std::nullopt));
    return rec.id;
  }

  persistence::node_heartbeat beat_of(const std::string& node, std::vector<uuid> running = {}) {
    persistence::node_heartbeat hb;
    hb.node_id = node;
    hb.api_address = "127.0.0.1:8000";
    hb.running = std::move(running);
    hb.active_deployments = static_cast<int64_t>(hb.running.size());
    hb.lease = 10s;
    return hb;
  }

  std::string owner_of(const uuid& id) {
    return global_database::get().exec(
      "SELECT COALESCE(lease_owner, '-') FROM deployments WHERE id = '" + to_string(id) + "'");
  }

  persistence::pool db;
  std::unique_ptr<persistence::deployment_repository> deployments;
  std::unique_ptr<persistence::cluster_repository> uut;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(pg_cluster_repository, cluster_fixture)

BOOST_AUTO_TEST_CASE(a_heartbeat_renews_the_node_s_leases_and_lists_its_peers) {
  auto x = create("x");
  must(deployments->claim(x, {"a", 1s}));
  auto hb = beat_of("a", {x});
  hb.joining = true;
  auto res = must(uut->heartbeat(hb));
  BOOST_TEST(res.leases == 1);
  BOOST_TEST(res.lost.empty());
  BOOST_TEST(res.claimable.empty());
  BOOST_TEST(res.live_nodes == 1);
  BOOST_TEST(global_database::get().exec("SELECT lease_expires_at > now() + interval '9 s' FROM "
                                         "deployments WHERE id = '"
                                         + to_string(x) + "'")
             == "t");
  must(uut->heartbeat(beat_of("b")));
  auto nodes = must(uut->nodes());
  BOOST_REQUIRE_EQUAL(nodes.size(), 2u);
  BOOST_TEST(nodes[0].node_id == "a");
  BOOST_TEST(nodes[0].leases == 1);
  BOOST_TEST(nodes[0].active_deployments == 1);
  BOOST_TEST(nodes[1].node_id == "b");
  BOOST_TEST(nodes[1].leases == 0);
  BOOST_TEST(!nodes[1].left_at.has_value());
  BOOST_TEST(nodes[1].heartbeat_age < 5s);
}

BOOST_AUTO_TEST_CASE(a_lease_another_node_took_is_reported_lost) {
  auto x = create("x");
  must(deployments->claim(x, {"a", 10s}));
  global_database::get().exec("UPDATE deployments SET lease_expires_at = now() - interval '1 s'");
  // b sees the expired lease of a busy deployment as one to take.
  auto seen_by_b = must(uut->heartbeat(beat_of("b")));
  BOOST_REQUIRE_EQUAL(seen_by_b.claimable.size(), 1u);
  BOOST_TEST((seen_by_b.claimable[0] == x));
  BOOST_TEST(must(deployments->claim(x, {"b", 10s})).taken_from == "a");
  auto seen_by_a = must(uut->heartbeat(beat_of("a", {x})));
  BOOST_REQUIRE_EQUAL(seen_by_a.lost.size(), 1u);
  BOOST_TEST((seen_by_a.lost[0] == x));
  BOOST_TEST(seen_by_a.leases == 0);
  BOOST_TEST(owner_of(x) == "b");
}

BOOST_AUTO_TEST_CASE(leases_of_finished_deployments_without_an_actor_are_freed) {
  auto done = create("done");
  must(deployments->claim(done, {"a", 10s}));
  global_database::get().exec("UPDATE deployments SET status = 'COMPLETED' WHERE id = '"
                              + to_string(done) + "'");
  // While its actor lives the lease stays; once it passivated, the next heartbeat frees it.
  BOOST_TEST(must(uut->heartbeat(beat_of("a", {done}))).leases == 1);
  BOOST_TEST(owner_of(done) == "a");
  BOOST_TEST(must(uut->heartbeat(beat_of("a"))).leases == 0);
  BOOST_TEST(owner_of(done) == "-");
}

BOOST_AUTO_TEST_CASE(a_free_deployment_is_left_to_its_creator_for_a_lease_period) {
  auto fresh = create("fresh");
  // The sample's times are in the past: make it as new as a deployment just accepted.
  global_database::get().exec("UPDATE deployments SET updated_at = now()");
  BOOST_TEST(must(uut->heartbeat(beat_of("b"))).claimable.empty());
  global_database::get().exec("UPDATE deployments SET updated_at = now() - interval '1 minute'");
  auto res = must(uut->heartbeat(beat_of("b")));
  BOOST_REQUIRE_EQUAL(res.claimable.size(), 1u);
  BOOST_TEST((res.claimable[0] == fresh));
}

BOOST_AUTO_TEST_CASE(leaving_expires_busy_leases_at_once_and_marks_the_node_left) {
  auto x = create("x");
  auto y = create("y");
  must(deployments->claim(x, {"a", 10s}));
  must(deployments->claim(y, {"a", 10s}));
  must(uut->heartbeat(beat_of("a", {x, y})));
  BOOST_TEST(must(uut->leave("a")) == 2);
  auto res = must(uut->heartbeat(beat_of("b")));
  BOOST_TEST(res.claimable.size() == 2u);
  BOOST_TEST(res.live_nodes == 1);
  auto taken = must(deployments->claim(x, {"b", 10s}));
  BOOST_TEST(taken.taken_from == "a");
  auto nodes = must(uut->nodes());
  BOOST_REQUIRE_EQUAL(nodes.size(), 2u);
  BOOST_TEST(nodes[0].left_at.has_value());
}

BOOST_AUTO_TEST_CASE(two_claimers_at_once_get_one_lease) {
  auto x = create("x");
  std::atomic<int> won{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      persistence::pool own{persistence::pool_config{global_database::get().url(), 1}};
      auto repo = persistence::make_pg_deployment_repository(own);
      auto got = repo->claim(x, {"node-" + std::to_string(i), 10s});
      if (got)
        ++won;
      else if (is(got.error(), errc::conflict))
        ++refused;
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(won.load() == 1);
  BOOST_TEST(refused.load() == 3);
  BOOST_TEST(must(deployments->get(x)).epoch == 1);
}

BOOST_AUTO_TEST_SUITE_END()
