#pragma once

// One set of checks every `configuration_run_repository` must pass: the in-memory one in unit
// tests, the PostgreSQL one in integration tests. A fixture derives from
// `configuration_run_repository_harness` and `ORCH_CONFIGURATION_RUN_REPOSITORY_CONTRACT(fixture)`
// expands to one Boost.Test case per check.

#include <string>

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"
#include "orch/persistence/configuration_run_repository.hpp"

namespace orch::testing {

class configuration_run_repository_harness {
public:
  virtual ~configuration_run_repository_harness() = default;

  /// The repository under test, empty at the start of each case.
  virtual persistence::configuration_run_repository& runs() = 0;

  /// A deployment runs may belong to.
  virtual uuid add_deployment() = 0;
};

inline persistence::configuration_run sample_run(const uuid& deployment) {
  persistence::configuration_run run;
  run.id = uuid::random();
  run.deployment_id = deployment;
  run.playbook = "configure-web.yml";
  run.inventory = {{"web", {"10.0.1.10", "10.0.1.11"}}, {"db", {"10.0.2.10"}}};
  run.extra_vars = R"({"app_port": 8080})";
  return run;
}

inline bool run_failed_with(const caf::error& err, errc code) {
  return err && is(err, code);
}

inline void check_a_started_run_is_running_and_finishes_with_its_summary(
  configuration_run_repository_harness& h) {
  auto d = h.add_deployment();
  auto run = sample_run(d);
  auto started = h.runs().start(run);
  BOOST_REQUIRE(started);
  BOOST_TEST((started->status == operation_status::running));
  BOOST_TEST(started->playbook == "configure-web.yml");
  BOOST_TEST((started->inventory == run.inventory));
  BOOST_TEST(!started->finished_at.has_value());
  auto running = h.runs().running(d);
  BOOST_REQUIRE(running);
  BOOST_REQUIRE(running->has_value());
  BOOST_TEST((running->value().id == run.id));
  run.status = operation_status::failed;
  run.hosts = {{"10.0.1.10", 2, 2, 0, 0, 0}, {"10.0.1.11", 1, 0, 1, 0, 0}};
  run.failed_task = "10.0.1.11: task \"Install\" failed";
  run.output = "PLAY RECAP";
  auto finished = h.runs().finish(run);
  BOOST_REQUIRE(finished);
  BOOST_TEST((finished->status == operation_status::failed));
  BOOST_TEST((finished->hosts == run.hosts));
  BOOST_TEST(finished->failed_task == run.failed_task);
  BOOST_TEST(finished->finished_at.has_value());
  auto read = h.runs().get(d, run.id);
  BOOST_REQUIRE(read);
  BOOST_TEST(read->output == "PLAY RECAP");
  BOOST_TEST(read->extra_vars.find("8080") != std::string::npos);
  BOOST_TEST((read->hosts == run.hosts));
  running = h.runs().running(d);
  BOOST_REQUIRE(running);
  BOOST_TEST(!running->has_value());
}

inline void check_one_run_at_a_time_per_deployment(configuration_run_repository_harness& h) {
  auto d = h.add_deployment();
  auto other = h.add_deployment();
  BOOST_REQUIRE(h.runs().start(sample_run(d)));
  auto second = h.runs().start(sample_run(d));
  BOOST_REQUIRE(!second);
  BOOST_TEST(run_failed_with(second.error(), errc::conflict));
  BOOST_TEST(static_cast<bool>(h.runs().start(sample_run(other))));
}

inline void check_a_run_finishes_once(configuration_run_repository_harness& h) {
  auto run = sample_run(h.add_deployment());
  BOOST_REQUIRE(h.runs().start(run));
  run.status = operation_status::succeeded;
  BOOST_REQUIRE(h.runs().finish(run));
  run.status = operation_status::cancelled;
  auto again = h.runs().finish(run);
  BOOST_REQUIRE(!again);
  BOOST_TEST(run_failed_with(again.error(), errc::conflict));
  auto unknown = sample_run(run.deployment_id);
  unknown.status = operation_status::succeeded;
  auto missing = h.runs().finish(unknown);
  BOOST_REQUIRE(!missing);
  BOOST_TEST(run_failed_with(missing.error(), errc::not_found));
}

inline void
check_runs_are_listed_newest_first_without_output(configuration_run_repository_harness& h) {
  auto d = h.add_deployment();
  std::vector<uuid> ids;
  for (int i = 0; i < 3; ++i) {
    auto run = sample_run(d);
    BOOST_REQUIRE(h.runs().start(run));
    run.status = operation_status::succeeded;
    run.output = "run " + std::to_string(i);
    BOOST_REQUIRE(h.runs().finish(run));
    ids.push_back(run.id);
  }
  BOOST_REQUIRE(h.runs().start(sample_run(h.add_deployment())));
  auto page = h.runs().list(d, 2, 0);
  BOOST_REQUIRE(page);
  BOOST_TEST(page->total == 3);
  BOOST_REQUIRE(page->items.size() == 2u);
  BOOST_TEST((page->items[0].id == ids[2]));
  BOOST_TEST((page->items[1].id == ids[1]));
  BOOST_TEST(page->items[0].output.empty());
  auto rest = h.runs().list(d, 2, 2);
  BOOST_REQUIRE(rest);
  BOOST_REQUIRE(rest->items.size() == 1u);
  BOOST_TEST((rest->items[0].id == ids[0]));
  auto past = h.runs().list(d, 2, 10);
  BOOST_REQUIRE(past);
  BOOST_TEST(past->items.empty());
  BOOST_TEST(past->total == 3);
}

inline void check_get_is_scoped_to_the_deployment(configuration_run_repository_harness& h) {
  auto run = sample_run(h.add_deployment());
  BOOST_REQUIRE(h.runs().start(run));
  auto elsewhere = h.runs().get(h.add_deployment(), run.id);
  BOOST_REQUIRE(!elsewhere);
  BOOST_TEST(run_failed_with(elsewhere.error(), errc::not_found));
}

inline void check_long_output_is_cut_to_the_bound(configuration_run_repository_harness& h) {
  auto run = sample_run(h.add_deployment());
  BOOST_REQUIRE(h.runs().start(run));
  run.status = operation_status::succeeded;
  run.output = std::string(persistence::max_configuration_output + 100, 'x');
  BOOST_REQUIRE(h.runs().finish(run));
  auto read = h.runs().get(run.deployment_id, run.id);
  BOOST_REQUIRE(read);
  BOOST_TEST(read->output.size() == persistence::max_configuration_output);
}

} // namespace orch::testing

#define ORCH_CONFIGURATION_RUN_REPOSITORY_CHECK(fixture, check)                                    \
  BOOST_FIXTURE_TEST_CASE(check, fixture) {                                                        \
    orch::testing::check_##check(*this);                                                           \
  }

#define ORCH_CONFIGURATION_RUN_REPOSITORY_CONTRACT(fixture)                                        \
  ORCH_CONFIGURATION_RUN_REPOSITORY_CHECK(fixture,                                                 \
                                          a_started_run_is_running_and_finishes_with_its_summary)  \
  ORCH_CONFIGURATION_RUN_REPOSITORY_CHECK(fixture, one_run_at_a_time_per_deployment)               \
  ORCH_CONFIGURATION_RUN_REPOSITORY_CHECK(fixture, a_run_finishes_once)                            \
  ORCH_CONFIGURATION_RUN_REPOSITORY_CHECK(fixture, runs_are_listed_newest_first_without_output)    \
  ORCH_CONFIGURATION_RUN_REPOSITORY_CHECK(fixture, get_is_scoped_to_the_deployment)                \
  ORCH_CONFIGURATION_RUN_REPOSITORY_CHECK(fixture, long_output_is_cut_to_the_bound)
