#include "orch/openstack/governor.hpp"

#include <vector>

#include <boost/test/unit_test.hpp>

using namespace orch::openstack;

namespace {

using limiter = orch::openstack::governor;

} // namespace

BOOST_AUTO_TEST_SUITE(governor)

BOOST_AUTO_TEST_CASE(at_most_the_limit_runs_and_waiters_start_in_fifo_order) {
  limiter uut{2};
  std::vector<int> started;
  for (int i = 0; i < 5; ++i) uut.acquire([&started, i] { started.push_back(i); });
  BOOST_TEST(started == (std::vector<int>{0, 1}));
  BOOST_TEST(uut.in_flight() == 2u);
  BOOST_TEST(uut.waiting() == 3u);
  uut.release();
  BOOST_TEST(started == (std::vector<int>{0, 1, 2}));
  uut.release();
  uut.release();
  BOOST_TEST(started == (std::vector<int>{0, 1, 2, 3, 4}));
  BOOST_TEST(uut.in_flight() == 2u);
  uut.release();
  uut.release();
  BOOST_TEST(uut.in_flight() == 0u);
  BOOST_TEST(uut.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(work_that_releases_synchronously_does_not_recurse) {
  limiter uut{1};
  int depth = 0;
  int max_depth = 0;
  int done = 0;
  for (int i = 0; i < 10'000; ++i)
    uut.acquire([&] {
      ++depth;
      max_depth = std::max(max_depth, depth);
      ++done;
      uut.release();
      --depth;
    });
  BOOST_TEST(done == 10'000);
  BOOST_TEST(max_depth == 1);
  BOOST_TEST(uut.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(a_zero_limit_means_one) {
  limiter uut{0};
  BOOST_TEST(uut.max_in_flight() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
