#include "orch/persistence/pg_template_repository.hpp"

#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"
#include "orch/persistence/pool.hpp"
#include "repository_contract.hpp"
#include "test_database.hpp"

using namespace orch;
using namespace std::chrono_literals;
using orch::testing::global_database;

namespace {

struct pg_fixture : testing::template_repository_harness {
  pg_fixture() : db(persistence::pool_config{global_database::get().url(), 2}) {
    global_database::get().exec("TRUNCATE deployment_templates, deployments CASCADE");
    repo = persistence::make_pg_template_repository(db);
  }

  persistence::template_repository& uut() override { return *repo; }

  void put_in_use(const uuid& id) override {
    global_database::get().exec(
      "INSERT INTO deployments (name, status, template, template_id, cloud_region) VALUES "
      "('uses-"
      + to_string(id) + "', 'COMPLETED', '{}', '" + to_string(id) + "', 'RegionOne')");
  }

  void release(const uuid& id) override {
    global_database::get().exec(
      "UPDATE deployments SET status = 'DELETED', deleted_at = now() WHERE template_id = '"
      + to_string(id) + "'");
  }

  persistence::pool db;
  std::unique_ptr<persistence::template_repository> repo;
};

} // namespace

BOOST_AUTO_TEST_SUITE(pg_template_repository)

ORCH_TEMPLATE_REPOSITORY_CONTRACT(pg_fixture)

BOOST_FIXTURE_TEST_CASE(groups_and_subnets_come_back_in_document_order, pg_fixture) {
  // jsonb would hand these back sorted by key length, then bytes: "db", "app", "zeta".
  auto spec = testing::sample_template("ordered");
  spec.vm_config.clear();
  for (auto name : {"zeta", "app", "db"}) {
    vm_group_spec group;
    group.flavor = "m1.small";
    group.image = "ubuntu-22.04";
    group.count = 1;
    spec.vm_config.emplace_back(name, group);
  }
  spec.network_config.subnets
    = {{"zeta", "10.0.3.0/24"}, {"app", "10.0.2.0/24"}, {"db", "10.0.1.0/24"}};
  BOOST_REQUIRE(repo->create(spec));
  auto found = repo->find("ordered");
  BOOST_REQUIRE_MESSAGE(found, testing::describe(found));
  BOOST_TEST(testing::same_spec(found->spec, spec));
}

BOOST_FIXTURE_TEST_CASE(a_name_that_looks_like_another_templates_id_finds_by_id_first, pg_fixture) {
  auto first = repo->create(testing::sample_template("first"));
  BOOST_REQUIRE(first);
  auto tricky = repo->create(testing::sample_template(to_string(uuid::random())));
  BOOST_REQUIRE(tricky);
  auto by_id = repo->find(to_string(first->id));
  BOOST_REQUIRE(by_id);
  BOOST_TEST(by_id->spec.name == "first");
  auto by_uuid_name = repo->find(tricky->spec.name);
  BOOST_REQUIRE(by_uuid_name);
  BOOST_TEST(to_string(by_uuid_name->id) == to_string(tricky->id));
}

BOOST_FIXTURE_TEST_CASE(an_upper_case_id_is_found, pg_fixture) {
  auto stored = repo->create(testing::sample_template("web"));
  BOOST_REQUIRE(stored);
  auto text = to_string(stored->id);
  for (auto& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto found = repo->find(text);
  BOOST_REQUIRE_MESSAGE(found, testing::describe(found));
  BOOST_TEST(found->spec.name == "web");
}

BOOST_FIXTURE_TEST_CASE(a_removed_row_stays_for_audit, pg_fixture) {
  auto stored = repo->create(testing::sample_template("web"));
  BOOST_REQUIRE(stored);
  BOOST_REQUIRE(!repo->remove("web"));
  BOOST_TEST(global_database::get().exec("SELECT deleted_at IS NOT NULL FROM deployment_templates "
                                         "WHERE id = '"
                                         + to_string(stored->id) + "'")
             == "t");
}

BOOST_FIXTURE_TEST_CASE(a_spec_that_does_not_read_back_is_refused_and_not_stored, pg_fixture) {
  auto spec = testing::sample_template("broken");
  spec.vm_config[0].second.count = -1;
  auto stored = repo->create(spec);
  BOOST_TEST(testing::failed_with(stored, errc::invalid_spec), testing::describe(stored));
  auto listed = repo->list(10, 0);
  BOOST_REQUIRE(listed);
  BOOST_TEST(listed->total == 0);
}

BOOST_AUTO_TEST_CASE(every_operation_is_store_unavailable_when_the_server_is_down) {
  persistence::pool_config cfg;
  cfg.url = "postgresql://postgres@127.0.0.1:1/postgres";
  cfg.size = 1;
  cfg.acquire_timeout = 200ms;
  persistence::pool db{cfg};
  auto uut = persistence::make_pg_template_repository(db);
  auto expect_unavailable = [](const auto& res) {
    BOOST_TEST(testing::failed_with(res, errc::store_unavailable), testing::describe(res));
  };
  expect_unavailable(uut->create(testing::sample_template("web")));
  expect_unavailable(uut->find("web"));
  expect_unavailable(uut->list(10, 0));
  expect_unavailable(uut->replace("web", testing::sample_template("web")));
  expect_unavailable(uut->remove("web"));
}

BOOST_AUTO_TEST_SUITE_END()
