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

BOOST_AUTO_TEST_CASE(states_have_metric_names) {
  BOOST_TEST(to_string(breaker_state::closed) == "closed");
  BOOST_TEST(to_string(breaker_state::open) == "open");
  BOOST_TEST(to_string(breaker_state::half_open) == "half_open");
}

BOOST_AUTO_TEST_SUITE_END()
