#include <memory>

#include <boost/test/unit_test.hpp>

#include "configuration_run_repository_contract.hpp"

namespace {

struct memory_fixture : orch::testing::configuration_run_repository_harness {
  std::unique_ptr<orch::persistence::configuration_run_repository> repo
    = orch::persistence::make_memory_configuration_run_repository();

  orch::persistence::configuration_run_repository& runs() override { return *repo; }

  orch::uuid add_deployment() override { return orch::uuid::random(); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(memory_configuration_run_repository)

ORCH_CONFIGURATION_RUN_REPOSITORY_CONTRACT(memory_fixture)

BOOST_AUTO_TEST_SUITE_END()
