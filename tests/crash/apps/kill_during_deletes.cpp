#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "crash_fixture.hpp"

using namespace orch::testing;
using namespace orch::testing::crash;
using namespace std::chrono_literals;
using boost::beast::http::verb;

namespace {

constexpr const char* template_json = crash_template_json;

constexpr auto settle_timeout = 180s;

struct delete_fixture : crash_fixture {
  delete_fixture() : crash_fixture(template_json, "deletes") {}
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(kill_during_deletes, delete_fixture)

BOOST_AUTO_TEST_CASE(sigkill_mid_delete_and_restart_leave_nothing) {
  start_orchestrator(0);
  store_template(template_json);
  for (int i = 0; i < rounds * deployments_per_round; ++i)
    post_deployment("crash-" + std::to_string(i));
  auto deployed = await_statuses({"COMPLETED", "FAILED"}, settle_timeout);
  for (const auto& [id, status] : deployed)
    BOOST_TEST_REQUIRE(status == "COMPLETED", "deployment " << id << " is " << status);
  BOOST_TEST_MESSAGE(ids.size() << " deployments COMPLETED without kills");

  // Every round deletes its share, so each kill finds fresh deletes in flight (detaches,
  // deletes sent but not confirmed) besides whatever earlier rounds left unfinished.
  std::vector<int> interrupted_per_round;
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) start_orchestrator(rounds + round);
    for (int i = round * deployments_per_round; i < (round + 1) * deployments_per_round; ++i) {
      auto res = call(verb::delete_, "/deployments/" + ids[static_cast<std::size_t>(i)]);
      BOOST_TEST_REQUIRE(res.result_int() == 202, res.body());
    }
    auto killed = kill_mid_work(work_kind::remove);
    auto caught = interrupted(work_kind::remove);
    interrupted_per_round.push_back(caught.total());
    BOOST_TEST_MESSAGE("round " << round << ": SIGKILL after " << killed.ran.count() << " ms ("
                                << killed.probes << " probes) caught deletes " << caught.str()
                                << ", " << caught.carried_over << " more left by earlier kills; "
                                << db.query_value("SELECT count(*) FROM deployments WHERE status "
                                                  "= 'DELETED'")
                                << " of " << ids.size() << " deployments DELETED");
    // A kill that caught no delete between its call and its record proved nothing.
    BOOST_TEST_CHECK(caught.total() > 0, "round " << round << " (SIGKILL after "
                                                  << killed.ran.count()
                                                  << " ms) interrupted no delete; seed " << seed);
  }
  start_orchestrator(2 * rounds);

  auto last = await_statuses({"DELETED", "FAILED"}, settle_timeout);
  for (const auto& [id, status] : last)
    BOOST_TEST_CHECK(status == "DELETED", "deployment "
                                            << id << " is " << status << ": "
                                            << call(verb::get, "/deployments/" + id).body());

  auto kills_that_interrupted = std::count_if(
    interrupted_per_round.begin(), interrupted_per_round.end(), [](int n) { return n > 0; });
  std::string per_round;
  for (auto n : interrupted_per_round)
    per_round += (per_round.empty() ? "" : " ") + std::to_string(n);
  BOOST_TEST_MESSAGE(kills_that_interrupted
                     << " of " << rounds << " kills interrupted deletes (per round: " << per_round
                     << "); the cloud saw " << sim.calls("DELETE", "/compute/v2.1/servers/{id}")
                     << " server deletes for " << ids.size() * shape.vms.size() << " servers");
  check_nothing_left(sim.state());
}

BOOST_AUTO_TEST_SUITE_END()
