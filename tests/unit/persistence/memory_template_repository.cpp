#include "orch/persistence/memory_template_repository.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "repository_contract.hpp"

using namespace orch;
using namespace std::chrono_literals;

namespace {

struct memory_fixture : testing::template_repository_harness {
  memory_fixture() : repo([this] { return next_tick(); }) {
    repo.set_in_use_check([this](const uuid& id) { return in_use.count(id) > 0; });
  }

  persistence::template_repository& uut() override { return repo; }

  void put_in_use(const uuid& id) override { in_use.insert(id); }

  void release(const uuid& id) override { in_use.erase(id); }

  // Each reading is one second after the last, so "updated_at moved" is observable.
  timestamp next_tick() {
    now += 1s;
    return now;
  }

  timestamp now = timestamp{std::chrono::seconds{1'767'225'600}};
  std::set<uuid> in_use;
  persistence::memory_template_repository repo;
};

} // namespace

BOOST_AUTO_TEST_SUITE(memory_template_repository)

ORCH_TEMPLATE_REPOSITORY_CONTRACT(memory_fixture)

BOOST_AUTO_TEST_CASE(timestamps_come_from_the_injected_clock) {
  auto at = timestamp{std::chrono::seconds{1'700'000'000}};
  persistence::memory_template_repository uut{[at] { return at; }};
  auto stored = uut.create(testing::sample_template("web"));
  BOOST_REQUIRE(stored);
  BOOST_TEST(testing::micros(stored->created_at) == testing::micros(at));
}

BOOST_AUTO_TEST_CASE(an_empty_name_is_invalid) {
  persistence::memory_template_repository uut;
  auto stored = uut.create(testing::sample_template(""));
  BOOST_REQUIRE(!stored);
  BOOST_TEST(testing::failed_with(stored, errc::invalid_spec));
}

BOOST_AUTO_TEST_CASE(an_injected_failure_answers_every_call_until_cleared) {
  persistence::memory_template_repository uut;
  BOOST_REQUIRE(uut.create(testing::sample_template("web")));
  uut.set_failure(make_error(errc::store_unavailable, "database down"));
  BOOST_TEST(
    testing::failed_with(uut.create(testing::sample_template("db")), errc::store_unavailable));
  BOOST_TEST(testing::failed_with(uut.find("web"), errc::store_unavailable));
  BOOST_TEST(testing::failed_with(uut.list(10, 0), errc::store_unavailable));
  BOOST_TEST(testing::failed_with(uut.replace("web", testing::sample_template("web")),
                                  errc::store_unavailable));
  BOOST_TEST(testing::failed_with(uut.remove("web"), errc::store_unavailable));
  uut.set_failure(caf::none);
  BOOST_TEST(uut.find("web").engaged());
  auto listed = uut.list(10, 0);
  BOOST_REQUIRE(listed);
  BOOST_TEST(listed->total == 1);
}

BOOST_AUTO_TEST_CASE(concurrent_creates_of_one_name_store_it_once) {
  persistence::memory_template_repository uut;
  std::vector<std::thread> threads;
  std::atomic<int> created = 0;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int round = 0; round < 50; ++round)
        if (uut.create(testing::sample_template("name-" + std::to_string(round)))) ++created;
    });
  for (auto& thread : threads) thread.join();
  BOOST_TEST(created.load() == 50);
  auto listed = uut.list(500, 0);
  BOOST_REQUIRE(listed);
  BOOST_TEST(listed->total == 50);
}

BOOST_AUTO_TEST_SUITE_END()
