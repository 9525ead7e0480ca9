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

namespace {

constexpr const char* template_json = crash_template_json;

constexpr auto completion_timeout = 180s;

struct deploy_fixture : crash_fixture {
  deploy_fixture() : crash_fixture(template_json, "deployments") {}
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(kill_during_deployments, deploy_fixture)

BOOST_AUTO_TEST_CASE(sigkill_and_restart_leave_exactly_the_templated_resources) {
  start_orchestrator(0);
  store_template(template_json);

  // Every round adds its share of deployments, so each kill finds fresh work in flight (creates
  // sent but not yet recorded, boots and attachments pending) besides whatever earlier rounds
  // left unfinished.
  std::vector<int> interrupted_per_round;
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) start_orchestrator(round);
    for (int i = 0; i < deployments_per_round; ++i)
      post_deployment("crash-" + std::to_string(round * deployments_per_round + i));
    auto killed = kill_mid_work(work_kind::create);
    auto caught = interrupted(work_kind::create);
    interrupted_per_round.push_back(caught.total());
    BOOST_TEST_MESSAGE("round " << round << ": SIGKILL after " << killed.ran.count() << " ms ("
                                << killed.probes << " probes) caught creates " << caught.str()
                                << ", " << caught.carried_over << " more left by earlier kills; "
                                << db.query_value("SELECT count(*) FROM deployments WHERE status "
                                                  "= 'COMPLETED'")
                                << " of " << ids.size() << " deployments COMPLETED");
    // A kill that caught no create between its call and its record proved nothing.
    BOOST_TEST_CHECK(caught.total() > 0, "round " << round << " (SIGKILL after "
                                                  << killed.ran.count()
                                                  << " ms) interrupted no create; seed " << seed);
  }
  start_orchestrator(rounds);

  auto last = await_statuses({"COMPLETED", "FAILED"}, completion_timeout);
  for (const auto& [id, status] : last)
    BOOST_TEST_CHECK(status == "COMPLETED",
                     "deployment "
                       << id << " is " << status << ": "
                       << call(boost::beast::http::verb::get, "/deployments/" + id).body());

  auto kills_that_interrupted = std::count_if(
    interrupted_per_round.begin(), interrupted_per_round.end(), [](int n) { return n > 0; });
  std::string per_round;
  for (auto n : interrupted_per_round)
    per_round += (per_round.empty() ? "" : " ") + std::to_string(n);
  BOOST_TEST_MESSAGE(kills_that_interrupted
                     << " of " << rounds << " kills interrupted creates (per round: " << per_round
                     << "); the cloud saw " << sim.calls("POST", "/compute/v2.1/servers")
                     << " server creates and " << sim.calls("POST", "/volume/v3/{project}/volumes")
                     << " volume creates");
  check_exactly_deployed(sim.state());
}

BOOST_AUTO_TEST_SUITE_END()
