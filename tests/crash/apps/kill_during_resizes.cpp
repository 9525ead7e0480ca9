#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "crash_fixture.hpp"
#include "json.hpp"

using namespace orch::testing;
using namespace orch::testing::crash;
using namespace std::chrono_literals;
using boost::beast::http::verb;

namespace {

constexpr const char* template_json = crash_template_json;

constexpr auto settle_timeout = 180s;

/// The flavor every round's `PATCH` moves the `web` group to (the template has `m1.small`).
constexpr const char* new_flavor = "m1.medium";

struct resize_fixture : crash_fixture {
  resize_fixture() : crash_fixture(template_json, "resizes") {}
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(kill_during_resizes, resize_fixture)

BOOST_AUTO_TEST_CASE(sigkill_mid_resize_and_restart_leave_every_vm_on_the_new_flavor) {
  start_orchestrator(0);
  store_template(template_json);
  for (int i = 0; i < rounds * deployments_per_round; ++i)
    post_deployment("crash-" + std::to_string(i));
  auto deployed = await_statuses({"COMPLETED", "FAILED"}, settle_timeout);
  for (const auto& [id, status] : deployed)
    BOOST_TEST_REQUIRE(status == "COMPLETED", "deployment " << id << " is " << status);
  BOOST_TEST_MESSAGE(ids.size() << " deployments COMPLETED without kills");

  // Every round resizes its share, so each kill finds fresh resizes under way (sent, awaiting
  // confirmation, confirmed but not recorded) besides whatever earlier rounds left unfinished.
  std::vector<int> interrupted_per_round;
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) start_orchestrator(round);
    for (int i = round * deployments_per_round; i < (round + 1) * deployments_per_round; ++i) {
      auto res = call(verb::patch, "/deployments/" + ids[static_cast<std::size_t>(i)],
                      std::string{R"({"parameters": {"web_flavor": ")"} + new_flavor + "\"}}");
      BOOST_TEST_REQUIRE(res.result_int() == 202, res.body());
    }
    auto killed = kill_mid_work(work_kind::resize);
    auto caught = interrupted(work_kind::resize);
    interrupted_per_round.push_back(caught.total());
    BOOST_TEST_MESSAGE("round " << round << ": SIGKILL after " << killed.ran.count() << " ms ("
                                << killed.probes << " probes) caught resizes " << caught.str()
                                << ", " << caught.carried_over << " more left by earlier kills");
    BOOST_TEST_CHECK(caught.total() > 0, "round " << round << " (SIGKILL after "
                                                  << killed.ran.count()
                                                  << " ms) interrupted no resize; seed " << seed);
  }
  start_orchestrator(rounds);

  auto last = await_statuses({"COMPLETED", "FAILED"}, settle_timeout);
  for (const auto& [id, status] : last)
    BOOST_TEST_CHECK(status == "COMPLETED", "deployment "
                                              << id << " is " << status << ": "
                                              << call(verb::get, "/deployments/" + id).body());

  // Exactly the templated resources, every server ACTIVE on the new flavor, and the records
  // say so.
  auto st = sim.state();
  check_exactly_deployed(st);
  for (const auto& s : st["servers"].GetArray()) {
    std::string name = s["name"].GetString();
    BOOST_TEST_CHECK(std::string{s["status"].GetString()} == "ACTIVE", name);
    BOOST_TEST_CHECK(std::string{s["flavor"]["original_name"].GetString()} == new_flavor, name);
  }
  for (const auto& id : ids) {
    auto doc = parse_json(call(verb::get, "/deployments/" + id).body());
    const auto& vms = doc["resources"]["vms"];
    BOOST_TEST_CHECK(vms.Size() == shape.vms.size());
    for (const auto& vm : vms.GetArray())
      BOOST_TEST_CHECK(std::string{vm["flavor"].GetString()} == new_flavor, vm["name"].GetString());
  }

  auto kills_that_interrupted = std::count_if(
    interrupted_per_round.begin(), interrupted_per_round.end(), [](int n) { return n > 0; });
  std::string per_round;
  for (auto n : interrupted_per_round)
    per_round += (per_round.empty() ? "" : " ") + std::to_string(n);
  BOOST_TEST_MESSAGE(kills_that_interrupted
                     << " of " << rounds << " kills interrupted resizes (per round: " << per_round
                     << "); the cloud saw "
                     << sim.calls("POST", "/compute/v2.1/servers/{id}/action")
                     << " server actions (a resize and a confirm each) for "
                     << ids.size() * shape.vms.size() << " servers");
}

BOOST_AUTO_TEST_SUITE_END()
