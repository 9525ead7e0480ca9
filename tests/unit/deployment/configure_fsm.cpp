// The configure inputs of deployment_fsm: they only record the operation and the status; the
// run itself is the actor's.

#include "orch/deployment/deployment_fsm.hpp"

#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "fsm_driver.hpp"

using namespace orch;
using namespace orch::testing;

namespace {

fsm_driver completed() {
  fsm_driver drv{pending_record()};
  drv.feed(start_deploy{tick(0)});
  drv.run();
  BOOST_REQUIRE(drv.uut.state().status == deployment_status::completed);
  drv.events.clear();
  return drv;
}

} // namespace

BOOST_AUTO_TEST_SUITE(configure_fsm)

BOOST_AUTO_TEST_CASE(configure_records_the_operation_then_configuring_and_issues_nothing) {
  auto drv = completed();
  drv.feed(start_configure{tick(100)});
  BOOST_TEST(drv.queue.empty());
  BOOST_REQUIRE_EQUAL(drv.events.size(), 2u);
  BOOST_TEST(std::get<operation_started>(drv.events[0].data).type == operation_type::configure);
  auto sc = std::get<status_changed>(drv.events[1].data);
  BOOST_TEST(sc.from == deployment_status::completed);
  BOOST_TEST(sc.to == deployment_status::configuring);
  BOOST_TEST(drv.uut.state().operation->status == operation_status::running);
}

BOOST_AUTO_TEST_CASE(a_successful_run_returns_to_completed) {
  auto drv = completed();
  drv.feed(start_configure{tick(100)});
  drv.feed(configure_finished{tick(101), false, false, std::nullopt});
  BOOST_TEST(drv.uut.state().status == deployment_status::completed);
  BOOST_TEST(drv.uut.state().operation->type == operation_type::configure);
  BOOST_TEST(drv.uut.state().operation->status == operation_status::succeeded);
  BOOST_TEST(!drv.uut.state().operation->error.has_value());
}

BOOST_AUTO_TEST_CASE(a_failed_run_fails_the_deployment_with_its_error) {
  auto drv = completed();
  drv.feed(start_configure{tick(100)});
  operation_error error{"configuration_failed", "10.0.1.11: task \"Install\" failed", ""};
  drv.feed(configure_finished{tick(101), true, false, error});
  BOOST_TEST(drv.uut.state().status == deployment_status::failed);
  BOOST_TEST(drv.uut.state().operation->status == operation_status::failed);
  BOOST_TEST((drv.uut.state().operation->error == error));
  BOOST_TEST(std::holds_alternative<error_reported>(drv.events[2].data));
}

BOOST_AUTO_TEST_CASE(an_interrupted_run_fails_the_operation_but_keeps_the_deployment_completed) {
  auto drv = completed();
  drv.feed(start_configure{tick(100)});
  operation_error error{"configuration_interrupted", "the orchestrator restarted", ""};
  drv.feed(configure_finished{tick(101), false, true, error});
  BOOST_TEST(drv.uut.state().status == deployment_status::completed);
  BOOST_TEST(drv.uut.state().operation->status == operation_status::failed);
  BOOST_TEST(drv.uut.state().operation->error->code == "configuration_interrupted");
}

BOOST_AUTO_TEST_CASE(configure_is_refused_unless_completed) {
  orch::deployment_fsm pending{pending_record()};
  auto refused = pending.apply(start_configure{tick(0)});
  BOOST_REQUIRE(!refused);
  BOOST_TEST(is(refused.error(), errc::conflict));
  auto drv = completed();
  drv.feed(start_configure{tick(100)});
  auto twice = drv.uut.apply(start_configure{tick(101)});
  BOOST_REQUIRE(!twice);
  BOOST_TEST(error_detail(twice.error()) == "cannot configure a deployment that is CONFIGURING");
  auto stray = orch::deployment_fsm{pending_record()}.apply(
    configure_finished{tick(1), false, false, std::nullopt});
  BOOST_TEST(!stray);
}

BOOST_AUTO_TEST_CASE(delete_while_configuring_cancels_the_configure_operation) {
  auto drv = completed();
  drv.feed(start_configure{tick(100)});
  drv.feed(start_delete{tick(101)});
  BOOST_TEST(drv.uut.state().status == deployment_status::deleting);
  auto finished = std::find_if(drv.events.begin(), drv.events.end(), [](const auto& ev) {
    return std::holds_alternative<operation_finished>(ev.data);
  });
  BOOST_REQUIRE(finished != drv.events.end());
  BOOST_TEST(std::get<operation_finished>(finished->data).status == operation_status::cancelled);
  // The run's late answer is refused: the delete goes on.
  BOOST_TEST(!drv.uut.apply(configure_finished{tick(102), false, false, std::nullopt}));
}

BOOST_AUTO_TEST_SUITE_END()
