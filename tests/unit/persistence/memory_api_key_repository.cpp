#include <memory>

#include <boost/test/unit_test.hpp>

#include "api_key_repository_contract.hpp"

namespace {

struct memory_fixture : orch::testing::api_key_repository_harness {
  std::unique_ptr<orch::persistence::api_key_repository> repo
    = orch::persistence::make_memory_api_key_repository();

  orch::persistence::api_key_repository& keys() override { return *repo; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(memory_api_key_repository)

ORCH_API_KEY_REPOSITORY_CONTRACT(memory_fixture)

BOOST_AUTO_TEST_SUITE_END()
