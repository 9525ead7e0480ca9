// Configuration runs through the deployment engine: the deployment actor owns the run, the
// runner is a fake the test ends by hand, the stores are in memory.

#include <optional>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <prometheus/registry.h>

#include "fake_cloud.hpp"
#include "fake_playbook_runner.hpp"
#include "fsm_driver.hpp"
#include "orch/actors/engine.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"

using namespace orch;
using namespace orch::actors;
using fake_cloud = orch::actors::testing::fake_cloud;
using fake_playbook_runner = orch::actors::testing::fake_playbook_runner;

namespace {

caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  return cfg;
}

struct configure_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing_config(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  prometheus::Registry registry;
  actor_metrics metrics{registry};
  persistence::memory_deployment_repository repo;
  std::unique_ptr<persistence::configuration_run_repository> runs
    = persistence::make_memory_configuration_run_repository();
  std::shared_ptr<fake_cloud> cloud = std::make_shared<fake_cloud>();
  std::shared_ptr<fake_playbook_runner> runner = std::make_shared<fake_playbook_runner>();
  std::unique_ptr<deployment_engine> engine;
  int clock_ticks = 0;
  uuid id;

  configure_fixture() {
    engine_config ec;
    ec.detached_store = false;
    ec.store_workers = 2;
    ec.resume_unfinished = false;
    ec.resume_sweep_interval = std::chrono::milliseconds{0};
    ec.wall_clock = [this] { return orch::testing::tick(++clock_ticks); };
    engine_deps deps{repo, {{"RegionOne", cloud}}, &metrics};
    deps.configuration_runs = runs.get();
    deps.runner = runner;
    engine = spawn_deployment_engine(sys, ec, std::move(deps));
    auto rec = orch::testing::pending_record();
    rec.id = uuid::random();
    auto made = repo.create(rec, std::nullopt);
    BOOST_REQUIRE(made);
    id = made->deployment_id;
    engine->start(id);
    run_all();
    BOOST_REQUIRE(status_of() == deployment_status::completed);
  }

  ~configure_fixture() {
    engine.reset();
    for (int i = 0; i < 100'000; ++i) {
      sched.run();
      if (!sched.trigger_timeout()) break;
    }
  }

  void run_all() {
    for (int i = 0; i < 100'000; ++i) {
      sched.run();
      if (!sched.trigger_timeout()) return;
    }
    BOOST_FAIL("the actors never came to rest");
  }

  deployment_record record() {
    auto rec = repo.get(id);
    BOOST_REQUIRE(rec);
    return *rec;
  }

  deployment_status status_of() { return record().status; }

  std::optional<caf::expected<persistence::configuration_run>> configure(configure_request req) {
    auto answer = std::make_shared<std::optional<caf::expected<persistence::configuration_run>>>();
    engine->configure(id, std::move(req), [answer](auto x) { *answer = std::move(x); });
    sched.run();
    return *answer;
  }

  static configure_request site() {
    configure_request req;
    req.playbook = "site.yml";
    req.extra_vars = R"({"app_port":8080})";
    return req;
  }

  static playbook_run_result ok_result(int changed) {
    playbook_run_result res;
    res.exit_code = 0;
    res.summary.complete = true;
    res.summary.hosts = {{"10.0.1.10", 2, changed, 0, 0, 0}};
    res.output = "PLAY RECAP";
    return res;
  }

  double metric(const std::string& name, const std::string& label) {
    for (const auto& family : registry.Collect())
      if (family.name == name)
        for (const auto& m : family.metric)
          for (const auto& l : m.label)
            if (l.value == label) return m.counter.value;
    return 0;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(configure_engine, configure_fixture)

BOOST_AUTO_TEST_CASE(a_run_goes_configuring_then_back_to_completed_with_its_summary) {
  auto run = configure(site());
  BOOST_REQUIRE(run && *run);
  BOOST_TEST(status_of() == deployment_status::configuring);
  BOOST_REQUIRE_EQUAL(runner->started.size(), 1u);
  const auto& req = runner->started[0];
  BOOST_TEST(req.playbook == "site.yml");
  BOOST_TEST(req.extra_vars == R"({"app_port":8080})");
  // One group per VM group of the three-tier template.
  BOOST_TEST(req.inventory.size() == 3u);
  BOOST_TEST(req.run_id == to_string((*run)->id));
  BOOST_REQUIRE(runner->finish(req.run_id, ok_result(2)));
  run_all();
  BOOST_TEST(status_of() == deployment_status::completed);
  auto op = record().operation;
  BOOST_REQUIRE(op);
  BOOST_TEST(op->type == operation_type::configure);
  BOOST_TEST(op->status == operation_status::succeeded);
  auto stored = runs->get(id, (*run)->id);
  BOOST_REQUIRE(stored);
  BOOST_TEST(stored->status == operation_status::succeeded);
  BOOST_REQUIRE_EQUAL(stored->hosts.size(), 1u);
  BOOST_TEST(stored->hosts[0].changed == 2);
  BOOST_TEST(stored->output == "PLAY RECAP");
  BOOST_TEST(metric("configuration_runs_total", "succeeded") == 1.0);
}

BOOST_AUTO_TEST_CASE(a_failing_host_fails_the_deployment_naming_host_and_task) {
  auto run = configure(site());
  BOOST_REQUIRE(run && *run);
  auto res = ok_result(0);
  res.exit_code = 2;
  res.summary.hosts = {{"10.0.1.10", 1, 0, 1, 0, 0}};
  res.summary.failures = {{"10.0.1.10", "Install nginx", "No package", false}};
  BOOST_REQUIRE(runner->finish(runner->started[0].run_id, res));
  run_all();
  BOOST_TEST(status_of() == deployment_status::failed);
  auto op = record().operation;
  BOOST_REQUIRE(op && op->error);
  BOOST_TEST(op->error->code == "configuration_failed");
  BOOST_TEST(op->error->message == "10.0.1.10: task \"Install nginx\" failed (No package)");
  BOOST_TEST(runs->get(id, (*run)->id)->status == operation_status::failed);
}

BOOST_AUTO_TEST_CASE(a_second_configure_while_one_runs_is_a_conflict_naming_it) {
  BOOST_REQUIRE(*configure(site()));
  auto second = configure(site());
  BOOST_REQUIRE(second && !*second);
  BOOST_TEST(is(second->error(), errc::conflict));
  BOOST_TEST(error_detail(second->error())
             == "deployment is CONFIGURING: its configure operation must finish first");
  BOOST_TEST(runner->started.size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_playbooks_and_foreign_hosts_are_invalid_and_change_nothing) {
  auto req = site();
  req.playbook = "../etc/site.yml";
  auto path = configure(req);
  BOOST_REQUIRE(path && !*path);
  BOOST_TEST(is(path->error(), errc::invalid_spec));
  req.playbook = "missing.yml";
  auto missing = configure(req);
  BOOST_REQUIRE(missing && !*missing);
  BOOST_TEST(error_detail(missing->error())
             == "playbook: no playbook missing.yml in "
                "ANSIBLE_PLAYBOOK_DIR");
  req = site();
  req.inventory = ansible::inventory{{"web", {"192.0.2.7"}}};
  auto foreign = configure(req);
  BOOST_REQUIRE(foreign && !*foreign);
  BOOST_TEST(error_detail(foreign->error())
             == "inventory.web[0]: is not an address of this deployment's VMs");
  BOOST_TEST(runner->started.empty());
  BOOST_TEST(status_of() == deployment_status::completed);
}

BOOST_AUTO_TEST_CASE(delete_while_configuring_stops_the_run_and_deletes) {
  auto run = configure(site());
  BOOST_REQUIRE(run && *run);
  auto answer = std::make_shared<std::optional<caf::expected<deployment_record>>>();
  engine->remove(id, [answer](auto x) { *answer = std::move(x); });
  run_all();
  BOOST_REQUIRE(*answer && **answer);
  BOOST_TEST(runner->cancelled.count(to_string((*run)->id)) == 1u);
  BOOST_TEST(runs->get(id, (*run)->id)->status == operation_status::cancelled);
  BOOST_TEST(status_of() == deployment_status::deleted);
}

BOOST_AUTO_TEST_SUITE_END()
