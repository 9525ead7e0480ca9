#include <memory>

#include <boost/test/unit_test.hpp>

#include "api_key_repository_contract.hpp"
#include "orch/persistence/pool.hpp"
#include "test_database.hpp"

using orch::testing::global_database;

namespace {

struct pg_fixture : orch::testing::api_key_repository_harness {
  pg_fixture() : db(orch::persistence::pool_config{global_database::get().url(), 2}) {
    global_database::get().exec("TRUNCATE api_keys");
    repo = orch::persistence::make_pg_api_key_repository(db);
  }

  orch::persistence::api_key_repository& keys() override { return *repo; }

  orch::persistence::pool db;
  std::unique_ptr<orch::persistence::api_key_repository> repo;
};

} // namespace

BOOST_AUTO_TEST_SUITE(pg_api_key_repository)

ORCH_API_KEY_REPOSITORY_CONTRACT(pg_fixture)

BOOST_AUTO_TEST_CASE(nothing_but_the_digest_is_stored) {
  pg_fixture f;
  BOOST_REQUIRE(f.keys().add("ci", orch::api_scope::write, orch::testing::digest_of('e')));
  BOOST_TEST(global_database::get().exec(
               "SELECT count(*) FROM api_keys WHERE key_hash = repeat('e', 64) AND scope = "
               "'write' AND name = 'ci'")
             == "1");
}

BOOST_AUTO_TEST_SUITE_END()
