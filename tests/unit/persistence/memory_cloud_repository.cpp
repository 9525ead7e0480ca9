#include <map>
#include <memory>

#include <boost/test/unit_test.hpp>

#include "cloud_repository_contract.hpp"

namespace {

struct memory_fixture : orch::testing::cloud_repository_harness {
  std::multimap<std::string, std::string, std::less<>> deployments;
  std::unique_ptr<orch::persistence::cloud_repository> repo
    = orch::persistence::make_memory_cloud_repository([this](std::string_view region) {
        auto [first, last] = deployments.equal_range(region);
        for (auto i = first; i != last; ++i)
          if (i->second != "DELETED") return true;
        return false;
      });

  orch::persistence::cloud_repository& clouds() override { return *repo; }

  void add_deployment(const std::string& region, const std::string& status) override {
    deployments.emplace(region, status);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(memory_cloud_repository)

ORCH_CLOUD_REPOSITORY_CONTRACT(memory_fixture)

BOOST_AUTO_TEST_SUITE_END()
