#include "orch/persistence/pg_deployment_repository.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "deployment_repository_contract.hpp"
#include "orch/errc.hpp"
#include "orch/persistence/pool.hpp"
#include "test_database.hpp"

using namespace orch;
using orch::testing::global_database;

namespace {

struct pg_fixture : testing::deployment_repository_harness {
  pg_fixture() : db(persistence::pool_config{global_database::get().url(), 4}) {
    global_database::get().exec(
      "TRUNCATE deployment_events, deployment_snapshots, idempotency_keys, deployments CASCADE");
    repo = persistence::make_pg_deployment_repository(db);
  }

  persistence::deployment_repository& uut() override { return *repo; }

  void expire_idempotency_keys() override {
    global_database::get().exec("UPDATE idempotency_keys SET expires_at = now() - interval '1 s', "
                                "created_at = now() - interval '25 hours'");
  }

  void expire_leases() override {
    global_database::get().exec("UPDATE deployments SET lease_expires_at = now() - interval '1 s' "
                                "WHERE lease_owner IS NOT NULL");
  }

  persistence::pool db;
  std::unique_ptr<persistence::deployment_repository> repo;
};

} // namespace

BOOST_AUTO_TEST_SUITE(pg_deployment_repository)

ORCH_DEPLOYMENT_REPOSITORY_CONTRACT(pg_fixture)

BOOST_FIXTURE_TEST_CASE(concurrent_appenders_get_gapless_sequences, pg_fixture) {
  auto state = testing::sample_deployment("busy");
  testing::must(repo->create(state, std::nullopt));
  // Boost.Test assertions are not thread-safe: the writers only count, the test checks.
  std::atomic<int> failed_appends{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < 10; ++i) {
        auto copy = state;
        auto batch = testing::contract_batch(
          copy, {testing::contract_event(w * 100 + i, retry_scheduled{"x", i, "503", 10})});
        if (!repo->append_events(state.id, 0, batch)) ++failed_appends;
      }
    });
  for (auto& t : writers) t.join();
  BOOST_TEST(failed_appends.load() == 0);
  auto evs = testing::must(repo->events(state.id, 0, 1000));
  BOOST_REQUIRE_EQUAL(evs.size(), 40u);
  for (size_t i = 0; i < evs.size(); ++i) BOOST_TEST(evs[i].seq == static_cast<int64_t>(i + 1));
}

BOOST_FIXTURE_TEST_CASE(totals_without_a_name_filter_agree_with_a_count_of_the_rows, pg_fixture) {
  for (int i = 0; i < 12; ++i)
    testing::must(
      repo->create(testing::sample_deployment("count-" + std::to_string(i)), std::nullopt));
  // Status changes, deletions and re-insertions in every way the counters must follow, from
  // several connections (so several counter shards).
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w)
    writers.emplace_back([w] {
      auto& g = global_database::get();
      g.exec("UPDATE deployments SET status = 'COMPLETED' WHERE name LIKE 'count-%' AND "
             "right(name, 1)::int % 3 = "
             + std::to_string(w));
    });
  for (auto& t : writers) t.join();
  global_database::get().exec(
    "UPDATE deployments SET status = 'DELETED', deleted_at = now() WHERE name = 'count-1'");
  global_database::get().exec("UPDATE deployments SET status = 'FAILED' WHERE name = 'count-2'");
  global_database::get().exec("UPDATE deployments SET updated_at = now()"); // no status change
  global_database::get().exec("DELETE FROM deployment_events");
  global_database::get().exec("DELETE FROM deployment_snapshots WHERE deployment_id IN "
                              "(SELECT id FROM deployments WHERE name = 'count-3')");
  global_database::get().exec("DELETE FROM deployments WHERE name = 'count-3'");
  for (std::string status : {"", "PENDING", "COMPLETED", "FAILED", "DELETED", "IN_PROGRESS"})
    for (bool include_deleted : {false, true}) {
      persistence::deployment_filter filter;
      if (!status.empty()) filter.status = parse_deployment_status(status).value();
      filter.include_deleted = include_deleted;
      filter.limit = 2;
      auto page = testing::must(repo->list(filter));
      auto counted = global_database::get().exec(
        "SELECT count(*) FROM deployments WHERE ('" + status + "' = '' OR status = '" + status
        + "') AND (" + (include_deleted ? "true" : "false") + " OR status <> 'DELETED')");
      BOOST_TEST(std::to_string(page.total) == counted,
                 "status '" << status << "' include_deleted " << include_deleted);
    }
}

BOOST_FIXTURE_TEST_CASE(the_template_keeps_its_group_order_in_row_and_snapshot, pg_fixture) {
  auto state = testing::sample_deployment("ordered");
  state.spec.vm_config.clear();
  for (auto name : {"zeta", "app", "db"})
    state.spec.vm_config.emplace_back(name, vm_group_spec{"m1.small", "img", 1, {}, {}});
  state.spec.network_config.subnets = {{"zz", "10.0.9.0/24"}, {"aa", "10.0.1.0/24"}};
  testing::must(repo->create(state, std::nullopt));
  testing::must(repo->append_events(
    state.id, 0, testing::contract_batch(state, testing::deploy_start_events(1), true)));
  auto row = testing::must(repo->get(state.id));
  BOOST_TEST(row.spec.vm_config.front().first == "zeta");
  auto history = testing::must(repo->load(state.id));
  BOOST_TEST(history.snapshot.spec.vm_config.front().first == "zeta");
  BOOST_TEST(history.snapshot.spec.network_config.subnets.front().first == "zz");
  BOOST_TEST((history.snapshot == state));
}

BOOST_FIXTURE_TEST_CASE(an_unreachable_database_is_store_unavailable, pg_fixture) {
  persistence::pool dead{persistence::pool_config{"postgresql://127.0.0.1:1/none", 1,
                                                  std::chrono::milliseconds{1000},
                                                  std::chrono::milliseconds{1000}}};
  auto uut = persistence::make_pg_deployment_repository(dead);
  auto res = uut->get(uuid::random());
  BOOST_REQUIRE(!res);
  BOOST_TEST(is(res.error(), errc::store_unavailable));
}

BOOST_AUTO_TEST_SUITE_END()
