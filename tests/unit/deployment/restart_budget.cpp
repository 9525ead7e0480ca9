#include "orch/deployment/restart_budget.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch;
using namespace std::chrono_literals;

namespace {

restart_budget::time_point t0() {
  return restart_budget::time_point{} + 1h;
}

} // namespace

BOOST_AUTO_TEST_SUITE(restart_budget)

BOOST_AUTO_TEST_CASE(restarts_back_off_exponentially_then_escalate) {
  orch::restart_budget uut{restart_budget_config{3, 60s, 100ms, 10s}};
  auto a = uut.on_failure(t0());
  auto b = uut.on_failure(t0() + 1s);
  auto c = uut.on_failure(t0() + 2s);
  BOOST_TEST(a.restart);
  BOOST_TEST(a.delay.count() == 100);
  BOOST_TEST(b.delay.count() == 200);
  BOOST_TEST(c.delay.count() == 400);
  BOOST_TEST(uut.restarts_in_window(t0() + 2s) == 3);
  BOOST_TEST(!uut.on_failure(t0() + 3s).restart);
}

BOOST_AUTO_TEST_CASE(restarts_outside_the_window_are_forgotten) {
  orch::restart_budget uut{restart_budget_config{2, 10s, 100ms, 10s}};
  uut.on_failure(t0());
  uut.on_failure(t0() + 1s);
  BOOST_TEST(!uut.on_failure(t0() + 5s).restart);
  auto later = uut.on_failure(t0() + 10500ms);
  BOOST_TEST(later.restart);
  BOOST_TEST(later.delay.count() == 200); // the restart at t0+1s still counts
  BOOST_TEST(uut.restarts_in_window(t0() + 30s) == 0);
}

BOOST_AUTO_TEST_CASE(backoff_is_capped) {
  orch::restart_budget uut{restart_budget_config{20, 60s, 1s, 5s}};
  restart_decision last;
  for (int i = 0; i < 10; ++i) last = uut.on_failure(t0() + std::chrono::milliseconds{i});
  BOOST_TEST(last.restart);
  BOOST_TEST(last.delay.count() == 5000);
}

BOOST_AUTO_TEST_SUITE_END()
