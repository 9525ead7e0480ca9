#include "orch/persistence/memory_deployment_repository.hpp"

#include <boost/test/unit_test.hpp>

#include "deployment_repository_contract.hpp"
#include "orch/errc.hpp"

using namespace orch;

namespace {

struct memory_fixture : testing::deployment_repository_harness {
  memory_fixture() : repo([this] { return now; }) {
    // nop
  }

  persistence::deployment_repository& uut() override { return repo; }

  void expire_idempotency_keys() override { now += persistence::idempotency_ttl; }

  void expire_leases() override { now += std::chrono::hours{1}; }

  timestamp now = testing::contract_time(0);
  persistence::memory_deployment_repository repo;
};

} // namespace

BOOST_AUTO_TEST_SUITE(memory_deployment_repository)

ORCH_DEPLOYMENT_REPOSITORY_CONTRACT(memory_fixture)

BOOST_FIXTURE_TEST_CASE(keys_live_until_their_ttl_has_passed, memory_fixture) {
  persistence::idempotency_claim claim{"k", "o", "h", 202, "{}"};
  auto first = testing::sample_deployment("one");
  repo.create(first, claim);
  now += persistence::idempotency_ttl - std::chrono::microseconds{1};
  auto again = repo.create(testing::sample_deployment("two"), claim);
  BOOST_REQUIRE(again);
  BOOST_TEST(again->replayed);
}

BOOST_FIXTURE_TEST_CASE(an_injected_failure_fails_every_call, memory_fixture) {
  repo.set_failure(make_error(errc::store_unavailable, "down"));
  BOOST_TEST(is(repo.get(uuid::random()).error(), errc::store_unavailable));
  BOOST_TEST(is(repo.list_unfinished("a").error(), errc::store_unavailable));
  repo.set_failure(caf::none);
  BOOST_TEST(static_cast<bool>(repo.list_unfinished("a")));
}

BOOST_AUTO_TEST_SUITE_END()
