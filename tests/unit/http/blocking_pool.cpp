#include "orch/http/blocking_pool.hpp"

#include <future>
#include <stdexcept>
#include <thread>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(blocking_pool)

BOOST_AUTO_TEST_CASE(runs_work_off_the_calling_thread) {
  orch::http::blocking_pool uut{2};
  std::promise<std::thread::id> ran_on;
  uut.run([&] { ran_on.set_value(std::this_thread::get_id()); });
  BOOST_TEST((ran_on.get_future().get() != std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(survives_work_that_throws) {
  orch::http::blocking_pool uut{1};
  uut.run([] { throw std::runtime_error{"repository down"}; });
  std::promise<void> after;
  uut.run([&] { after.set_value(); });
  BOOST_TEST((after.get_future().wait_for(std::chrono::seconds{5}) == std::future_status::ready));
}

BOOST_AUTO_TEST_CASE(stop_finishes_queued_work_and_ignores_later_work) {
  int done = 0;
  orch::http::blocking_pool uut{1};
  for (int i = 0; i < 10; ++i) uut.run([&] { ++done; });
  uut.stop();
  BOOST_TEST(done == 10);
  uut.run([&] { ++done; });
  uut.stop();
  BOOST_TEST(done == 10);
}

BOOST_AUTO_TEST_SUITE_END()
