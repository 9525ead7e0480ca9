#include "orch/openstack/circuit_breaker.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch::openstack;
using namespace std::chrono_literals;

namespace {

using breaker = orch::openstack::circuit_breaker;

struct fixture {
  fixture() {
    cfg.failure_threshold = 3;
    cfg.open_duration = 10s;
    cfg.half_open_probes = 2;
  }

  breaker_config cfg;
  breaker::time_point t0 = breaker::time_point{} + 1h;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(circuit_breaker, fixture)

BOOST_AUTO_TEST_CASE(consecutive_failures_open_it_and_a_success_resets_the_count) {
  breaker uut{cfg};
  uut.on_failure(t0);
  uut.on_failure(t0);
  uut.on_success();
  uut.on_failure(t0);
  uut.on_failure(t0);
  BOOST_TEST(to_string(uut.state()) == "closed");
  uut.on_failure(t0);
  BOOST_TEST(to_string(uut.state()) == "open");
  BOOST_TEST(!uut.allow(t0 + 9s));
}

BOOST_AUTO_TEST_CASE(after_the_open_duration_it_admits_only_the_probes) {
  breaker uut{cfg};
  for (int i = 0; i < 3; ++i) uut.on_failure(t0);
  BOOST_TEST(uut.allow(t0 + 10s));
  BOOST_TEST(to_string(uut.state()) == "half_open");
  BOOST_TEST(uut.allow(t0 + 10s));
  BOOST_TEST(!uut.allow(t0 + 10s));
  uut.on_success();
  BOOST_TEST(to_string(uut.state()) == "half_open");
  uut.on_success();
  BOOST_TEST(to_string(uut.state()) == "closed");
  BOOST_TEST(uut.allow(t0 + 10s));
}

BOOST_AUTO_TEST_CASE(a_failed_probe_opens_it_again_for_a_full_period) {
  breaker uut{cfg};
  for (int i = 0; i < 3; ++i) uut.on_failure(t0);
  BOOST_TEST(uut.allow(t0 + 10s));
  uut.on_failure(t0 + 11s);
  BOOST_TEST(to_string(uut.state()) == "open");
  BOOST_TEST(!uut.allow(t0 + 20s));
  BOOST_TEST(uut.allow(t0 + 21s));
}

BOOST_AUTO_TEST_CASE(open_half_open_closed_with_injected_time) {
  cfg.half_open_probes = 1;
  breaker uut{cfg};
  for (int i = 0; i < 3; ++i) uut.on_failure(t0);
  BOOST_TEST(to_string(uut.state()) == "open");
  BOOST_TEST(!uut.allow(t0 + 9999ms));
  BOOST_TEST(uut.allow(t0 + 10s));
  BOOST_TEST(to_string(uut.state()) == "half_open");
  BOOST_TEST(!uut.allow(t0 + 10s)); // one probe at a time
  uut.on_success();
  BOOST_TEST(to_string(uut.state()) == "closed");
  BOOST_TEST(uut.allow(t0 + 10s));
}

BOOST_AUTO_TEST_CASE(open_half_open_open_with_injected_time) {
  cfg.half_open_probes = 1;
  breaker uut{cfg};
  for (int i = 0; i < 3; ++i) uut.on_failure(t0);
  BOOST_TEST(uut.allow(t0 + 10s));
  uut.on_failure(t0 + 12s);
  BOOST_TEST(to_string(uut.state()) == "open");
  BOOST_TEST(!uut.allow(t0 + 21s));
  // The next period ends and the next probe goes out: probing never stops.
  BOOST_TEST(uut.allow(t0 + 22s));
  BOOST_TEST(to_string(uut.state()) == "half_open");
  uut.on_success();
  BOOST_TEST(to_string(uut.state()) == "closed");
}

BOOST_AUTO_TEST_CASE(a_probe_whose_answer_is_lost_counts_as_failed_and_probing_goes_on) {
  cfg.half_open_probes = 1;
  cfg.probe_timeout = 5s;
  breaker uut{cfg};
  for (int i = 0; i < 3; ++i) uut.on_failure(t0);
  BOOST_TEST(uut.allow(t0 + 10s)); // the probe; its answer never comes
  BOOST_TEST(!uut.allow(t0 + 14s));
  BOOST_TEST(to_string(uut.state()) == "half_open");
  BOOST_TEST(!uut.allow(t0 + 15s)); // timed out: open again for a full period
  BOOST_TEST(to_string(uut.state()) == "open");
  BOOST_TEST(!uut.allow(t0 + 24s));
  BOOST_TEST(uut.allow(t0 + 25s));
  BOOST_TEST(to_string(uut.state()) == "half_open");
  uut.on_success();
  BOOST_TEST(to_string(uut.state()) == "closed");
}

BOOST_AUTO_TEST_CASE(a_late_answer_of_a_timed_out_probe_changes_nothing_while_open) {
  cfg.half_open_probes = 1;
  cfg.probe_timeout = 5s;
  breaker uut{cfg};
  for (int i = 0; i < 3; ++i) uut.on_failure(t0);
  BOOST_TEST(uut.allow(t0 + 10s));
  BOOST_TEST(!uut.allow(t0 + 15s));
  uut.on_success();
  BOOST_TEST(to_string(uut.state()) == "open");
  uut.on_failure(t0 + 16s);
  BOOST_TEST(uut.allow(t0 + 25s)); // the period still runs from the timeout
}

BOOST_AUTO_TEST_CASE(retry_after_sets_the_open_period_within_bounds) {
  cfg.min_open_duration = 2s;
  breaker uut{cfg};
  for (int i = 0; i < 3; ++i) uut.on_failure(t0, 3s);
  BOOST_TEST(!uut.allow(t0 + 2999ms));
  BOOST_TEST(uut.allow(t0 + 3s));
  uut.on_failure(t0 + 3s, 0ms); // below the minimum
  BOOST_TEST(!uut.allow(t0 + 4s));
  BOOST_TEST(uut.allow(t0 + 5s));
  uut.on_failure(t0 + 5s, 1h); // above the maximum
  BOOST_TEST(!uut.allow(t0 + 14s));
  BOOST_TEST(uut.allow(t0 + 15s));
}

BOOST_AUTO_TEST_CASE(states_have_metric_names) {
  BOOST_TEST(to_string(breaker_state::closed) == "closed");
  BOOST_TEST(to_string(breaker_state::open) == "open");
  BOOST_TEST(to_string(breaker_state::half_open) == "half_open");
}

BOOST_AUTO_TEST_SUITE_END()
