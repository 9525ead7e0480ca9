#include <memory>

#include <boost/test/unit_test.hpp>

#include "cloud_repository_contract.hpp"
#include "orch/persistence/pool.hpp"
#include "test_database.hpp"

using orch::testing::global_database;

namespace {

struct pg_fixture : orch::testing::cloud_repository_harness {
  pg_fixture() : db(orch::persistence::pool_config{global_database::get().url(), 2}) {
    global_database::get().exec("TRUNCATE clouds");
    global_database::get().exec("TRUNCATE deployments CASCADE");
    repo = orch::persistence::make_pg_cloud_repository(db);
  }

  orch::persistence::cloud_repository& clouds() override { return *repo; }

  void add_deployment(const std::string& region, const std::string& status) override {
    global_database::get().exec("INSERT INTO deployments (name, status, template, cloud_region) "
                                "VALUES ('d-' || gen_random_uuid(), '"
                                + status + "', '{}', '" + region + "')");
  }

  orch::persistence::pool db;
  std::unique_ptr<orch::persistence::cloud_repository> repo;
};

} // namespace

BOOST_AUTO_TEST_SUITE(pg_cloud_repository)

ORCH_CLOUD_REPOSITORY_CONTRACT(pg_fixture)

BOOST_AUTO_TEST_CASE(the_secret_is_stored_as_sealed_bytes_only) {
  pg_fixture f;
  auto c = orch::testing::sample_cloud("RegionTwo");
  BOOST_REQUIRE(f.clouds().put(c));
  std::string tag_hex;
  for (int i = 0; i < 16; ++i) tag_hex += "54";
  BOOST_TEST(global_database::get().exec("SELECT encode(secret_sealed, 'hex') FROM clouds")
             == "010101010101010101010101"
                "00ff7f"
                  + tag_hex);
  BOOST_TEST(global_database::get().exec("SELECT key_version FROM clouds") == "0a1b2c3d");
}

BOOST_AUTO_TEST_SUITE_END()
