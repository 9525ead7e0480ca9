#include "orch/persistence/migrate.hpp"

#include <algorithm>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"
#include "repository_contract.hpp"
#include "test_database.hpp"

using namespace orch;
using orch::testing::describe;
using orch::testing::failed_with;

namespace {

std::vector<int> embedded_versions() {
  std::vector<int> result;
  for (const auto& m : persistence::migrations()) result.push_back(m.version);
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(migrations)

BOOST_AUTO_TEST_CASE(an_empty_database_gets_every_migration_and_all_tables) {
  testing::test_database fresh;
  persistence::pool db{persistence::pool_config{fresh.url(), 1}};
  auto report = persistence::migrate(db);
  BOOST_REQUIRE_MESSAGE(report, describe(report));
  BOOST_TEST(report->applied == embedded_versions());
  BOOST_TEST(report->schema_version == embedded_versions().back());
  for (auto table : {"schema_migrations", "deployment_templates", "deployments",
                     "deployment_events", "deployment_snapshots", "idempotency_keys", "api_keys"})
    BOOST_TEST(fresh.exec(std::string{"SELECT to_regclass('public."} + table + "') IS NOT NULL")
                 == "t",
               "table " << table);
  BOOST_TEST(fresh.exec("SELECT count(*) FROM schema_migrations")
             == std::to_string(embedded_versions().size()));
}

BOOST_AUTO_TEST_CASE(a_second_run_changes_nothing) {
  testing::test_database fresh;
  persistence::pool db{persistence::pool_config{fresh.url(), 1}};
  BOOST_REQUIRE(persistence::migrate(db));
  auto applied_at = fresh.exec("SELECT max(applied_at)::text FROM schema_migrations");
  auto again = persistence::migrate(db);
  BOOST_REQUIRE_MESSAGE(again, describe(again));
  BOOST_TEST(again->applied.empty());
  BOOST_TEST(again->schema_version == embedded_versions().back());
  BOOST_TEST(fresh.exec("SELECT count(*) FROM schema_migrations")
             == std::to_string(embedded_versions().size()));
  BOOST_TEST(fresh.exec("SELECT max(applied_at)::text FROM schema_migrations") == applied_at);
}

BOOST_AUTO_TEST_CASE(two_nodes_migrating_at_once_apply_each_migration_once) {
  testing::test_database fresh;
  persistence::pool first{persistence::pool_config{fresh.url(), 1}};
  persistence::pool second{persistence::pool_config{fresh.url(), 1}};
  caf::expected<persistence::migration_report> first_report{make_error(errc::internal, "not run")};
  caf::expected<persistence::migration_report> second_report{make_error(errc::internal, "not run")};
  std::latch start{2};
  std::thread a{[&] {
    start.arrive_and_wait();
    first_report = persistence::migrate(first);
  }};
  std::thread b{[&] {
    start.arrive_and_wait();
    second_report = persistence::migrate(second);
  }};
  a.join();
  b.join();
  BOOST_REQUIRE_MESSAGE(first_report, describe(first_report));
  BOOST_REQUIRE_MESSAGE(second_report, describe(second_report));
  std::vector<int> all = first_report->applied;
  all.insert(all.end(), second_report->applied.begin(), second_report->applied.end());
  std::sort(all.begin(), all.end());
  BOOST_TEST(all == embedded_versions());
  BOOST_TEST(first_report->schema_version == embedded_versions().back());
  BOOST_TEST(second_report->schema_version == embedded_versions().back());
  BOOST_TEST(fresh.exec("SELECT count(*) FROM schema_migrations")
             == std::to_string(embedded_versions().size()));
}

BOOST_AUTO_TEST_CASE(a_changed_applied_migration_is_refused) {
  testing::test_database fresh;
  persistence::pool db{persistence::pool_config{fresh.url(), 1}};
  BOOST_REQUIRE(persistence::migrate(db));
  fresh.exec("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
  auto report = persistence::migrate(db);
  BOOST_REQUIRE(!report);
  BOOST_TEST(failed_with(report, errc::conflict), describe(report));
  BOOST_TEST(error_detail(report.error()).find("0001_initial.sql") != std::string::npos);
  // The advisory lock was released on the way out: a later run is not blocked.
  fresh.exec("UPDATE schema_migrations SET checksum = '"
             + std::string{persistence::migrations().front().checksum} + "' WHERE version = 1");
  BOOST_TEST(persistence::migrate(db).engaged());
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_store_unavailable) {
  persistence::pool db{persistence::pool_config{"postgresql://postgres@127.0.0.1:1/postgres", 1}};
  auto report = persistence::migrate(db);
  BOOST_REQUIRE(!report);
  BOOST_TEST(failed_with(report, errc::store_unavailable), describe(report));
}

BOOST_AUTO_TEST_SUITE_END()
