#include "orch/sim/cloud.hpp"

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(control, cloud_fixture)

BOOST_AUTO_TEST_CASE(calls_are_counted_by_route_pattern) {
  send("GET", "/compute/v2.1/servers/a");
  send("GET", "/compute/v2.1/servers/b");
  auto a = send("GET", "/_sim/calls");
  uint64_t count = 0;
  for (auto& c : a.at("/calls")->GetArray())
    if (std::string{c["route"].GetString()} == "/compute/v2.1/servers/{id}"
        && std::string{c["method"].GetString()} == "GET")
      count = c["count"].GetUint64();
  BOOST_TEST(count == 2u);
  BOOST_TEST(send("DELETE", "/_sim/calls").status() == 204);
  BOOST_TEST(send("GET", "/_sim/calls").at("/total")->GetUint64() == 0u);
}

BOOST_AUTO_TEST_CASE(a_429_rule_answers_with_retry_after_in_the_service_shape) {
  auto rule
    = send("POST", "/_sim/faults",
           R"({"route":"/compute/v2.1/servers","method":"GET","status":429,"retry_after":3})");
  BOOST_TEST(rule.status() == 201);
  auto a = send("GET", "/compute/v2.1/servers");
  BOOST_TEST(a.status() == 429);
  BOOST_TEST(a.res.header("Retry-After") == "3");
  BOOST_TEST(a.str("/overLimit/retryAfter") == "3");
  BOOST_TEST(send("GET", "/networking/v2.0/networks").status() == 200);
  BOOST_TEST(send("DELETE", "/_sim/faults/" + rule.str("/fault/id")).status() == 204);
  BOOST_TEST(send("GET", "/compute/v2.1/servers").status() == 200);
}

BOOST_AUTO_TEST_CASE(the_nth_call_fails_only_once) {
  send("POST", "/_sim/faults", R"({"route":"/networking/v2.0/networks","status":503,"nth":2})");
  BOOST_TEST(send("GET", "/networking/v2.0/networks").status() == 200);
  auto second = send("GET", "/networking/v2.0/networks");
  BOOST_TEST(second.status() == 503);
  BOOST_TEST(second.at("/NeutronError") != nullptr);
  BOOST_TEST(send("GET", "/networking/v2.0/networks").status() == 200);
}

BOOST_AUTO_TEST_CASE(latency_and_drop_rules_tell_the_transport) {
  send("POST", "/_sim/faults", R"({"route":"*","latency_ms":150,"count":1})");
  BOOST_TEST(send("GET", "/image/v2/images").res.delay.count() == 150);
  BOOST_TEST(send("GET", "/image/v2/images").res.delay.count() == 0);
  send("POST", "/_sim/faults", R"({"route":"/image/v2/images","drop":true})");
  BOOST_TEST(send("GET", "/image/v2/images").res.drop_connection);
}

BOOST_AUTO_TEST_CASE(a_status_rule_skips_the_call) {
  send("POST", "/_sim/faults",
       R"({"route":"/networking/v2.0/networks","method":"POST","status":503,"count":1})");
  BOOST_TEST(send("POST", "/networking/v2.0/networks", R"({"network":{"name":"lost"}})").status()
             == 503);
  // Only `public` is there.
  BOOST_TEST(send("GET", "/networking/v2.0/networks").at("/networks")->Size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_after_rule_carries_the_call_out_and_answers_the_fault) {
  auto rule = send("POST", "/_sim/faults",
                   R"({"route":"/compute/v2.1/servers","method":"POST","status":502,)"
                   R"("after":true,"count":1})");
  BOOST_TEST(rule.status() == 201);
  BOOST_TEST(rule.at("/fault/after")->GetBool());
  auto net = create_network("n");
  create_subnet(net, "10.0.0.0/24");
  auto lost = boot("made-anyway", net);
  BOOST_TEST(lost.status() == 502);
  BOOST_TEST(lost.at("/computeFault") != nullptr);
  BOOST_TEST(lost.at("/server") == nullptr);
  auto list = send("GET", "/compute/v2.1/servers?name=made-anyway");
  BOOST_TEST(list.at("/servers")->Size() == 1u);
  // The count is spent: the next create answers normally.
  BOOST_TEST(boot("second", net).status() == 202);
  auto listed = send("GET", "/_sim/faults");
  BOOST_TEST(listed.at("/faults/0/after")->GetBool());
  BOOST_TEST(listed.at("/faults/0/hits")->GetUint64() == 1u);
}

BOOST_AUTO_TEST_CASE(an_after_rule_answers_in_the_service_envelope_and_may_drop) {
  send("POST", "/_sim/faults",
       R"({"route":"/networking/v2.0/networks","method":"POST","status":504,"after":true,)"
       R"("count":1})");
  auto lost = send("POST", "/networking/v2.0/networks", R"({"network":{"name":"lost"}})");
  BOOST_TEST(lost.status() == 504);
  BOOST_TEST(lost.at("/NeutronError") != nullptr);
  send("POST", "/_sim/faults",
       R"({"route":"/volume/v3/{project}/volumes","method":"POST","drop":true,"after":true,)"
       R"("count":1})");
  auto dropped = send("POST", "/volume/v3/" + project_id + "/volumes",
                      R"({"volume":{"name":"kept","size":1}})");
  BOOST_TEST(dropped.res.drop_connection);
  BOOST_TEST(send("GET", "/networking/v2.0/networks?name=lost").at("/networks")->Size() == 1u);
  BOOST_TEST(send("GET", "/volume/v3/" + project_id + "/volumes?name=kept").at("/volumes")->Size()
             == 1u);
}

BOOST_AUTO_TEST_CASE(rate_zero_never_hits_and_bad_rules_are_rejected) {
  send("POST", "/_sim/faults", R"({"route":"*","status":500,"rate":0})");
  BOOST_TEST(send("GET", "/image/v2/images").status() == 200);
  BOOST_TEST(send("POST", "/_sim/faults", R"({"route":"/nope","status":500})").status() == 400);
  BOOST_TEST(send("POST", "/_sim/faults", R"({"route":"*"})").status() == 400);
  BOOST_TEST(send("POST", "/_sim/faults", R"({"colour":"red"})").status() == 400);
  // `after` replaces an answer, so it needs one to replace it with.
  BOOST_TEST(send("POST", "/_sim/faults", R"({"route":"*","latency_ms":5,"after":true})").status()
             == 400);
  BOOST_TEST(send("POST", "/_sim/faults", R"({"route":"*","status":502,"after":1})").status()
             == 400);
}

BOOST_AUTO_TEST_CASE(reset_restores_the_initial_state) {
  create_network("temp");
  BOOST_TEST(send("POST", "/_sim/reset").status() == 204);
  // Tokens are gone too: log in again.
  BOOST_TEST(send("GET", "/networking/v2.0/networks").status() == 401);
  token = std::string{issue_token("admin", "secret").res.header("X-Subject-Token")};
  BOOST_TEST(send("GET", "/networking/v2.0/networks").at("/networks")->Size() == 1u);
}

BOOST_AUTO_TEST_CASE(state_dump_lists_every_resource) {
  auto net = create_network("n");
  auto a = send("GET", "/_sim/state");
  BOOST_TEST(a.status() == 200);
  BOOST_TEST(a.at("/networks")->Size() == 2u);
  BOOST_TEST(a.at("/images")->Size() == 2u);
  BOOST_TEST(a.at("/tokens")->GetUint64() == 1u);
}

BOOST_AUTO_TEST_CASE(configured_latency_is_added_to_every_call) {
  auto cfg = test_config();
  cfg.latency = 20ms;
  cloud_fixture slow{cfg};
  BOOST_TEST(slow.send("GET", "/compute/v2.1/servers").res.delay.count() == 20);
}

BOOST_AUTO_TEST_SUITE_END()
