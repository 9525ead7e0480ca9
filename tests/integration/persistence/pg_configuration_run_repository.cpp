#include <memory>

#include <boost/test/unit_test.hpp>

#include "configuration_run_repository_contract.hpp"
#include "orch/persistence/pool.hpp"
#include "test_database.hpp"

using orch::testing::global_database;

namespace {

struct pg_fixture : orch::testing::configuration_run_repository_harness {
  pg_fixture() : db(orch::persistence::pool_config{global_database::get().url(), 2}) {
    global_database::get().exec("TRUNCATE configuration_runs");
    repo = orch::persistence::make_pg_configuration_run_repository(db);
  }

  orch::persistence::configuration_run_repository& runs() override { return *repo; }

  orch::uuid add_deployment() override {
    auto id = orch::uuid::random();
    global_database::get().exec("INSERT INTO deployments (id, name, status, template, "
                                "cloud_region) VALUES ('"
                                + to_string(id) + "', 'd-' || gen_random_uuid(), 'COMPLETED', "
                                + "'{}', 'RegionOne')");
    return id;
  }

  orch::persistence::pool db;
  std::unique_ptr<orch::persistence::configuration_run_repository> repo;
};

} // namespace

BOOST_AUTO_TEST_SUITE(pg_configuration_run_repository)

ORCH_CONFIGURATION_RUN_REPOSITORY_CONTRACT(pg_fixture)

BOOST_AUTO_TEST_CASE(a_run_of_an_unknown_deployment_is_not_found) {
  pg_fixture f;
  auto started = f.runs().start(orch::testing::sample_run(orch::uuid::random()));
  BOOST_REQUIRE(!started);
  BOOST_TEST(orch::testing::run_failed_with(started.error(), orch::errc::not_found));
}

BOOST_AUTO_TEST_CASE(runs_go_with_their_deployment) {
  pg_fixture f;
  auto d = f.add_deployment();
  BOOST_REQUIRE(f.runs().start(orch::testing::sample_run(d)));
  global_database::get().exec("DELETE FROM deployments WHERE id = '" + to_string(d) + "'");
  BOOST_TEST(global_database::get().exec("SELECT count(*) FROM configuration_runs") == "0");
}

BOOST_AUTO_TEST_SUITE_END()
