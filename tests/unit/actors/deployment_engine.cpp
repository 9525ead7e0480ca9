#include <optional>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <prometheus/registry.h>

#include "fake_cloud.hpp"
#include "fsm_driver.hpp"
#include "orch/actors/engine.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"

using namespace orch;
using namespace orch::actors;
using fake_cloud = orch::actors::testing::fake_cloud;

namespace {

caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  return cfg;
}

/// A deterministic node: the test coordinator runs every actor, time moves only when a test
/// triggers the next timeout, the store is in memory and the cloud is `fake_cloud`.
struct engine_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing_config(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  prometheus::Registry registry;
  actor_metrics metrics{registry};
  /// The repository's clock, which alone decides when leases run out.
  timestamp repo_now = orch::testing::tick(0);
  persistence::memory_deployment_repository repo{[this] { return repo_now; }};
  std::shared_ptr<fake_cloud> cloud = std::make_shared<fake_cloud>();
  std::unique_ptr<node_engine> engine;
  int clock_ticks = 0;

  engine_config config() {
    engine_config result;
    result.detached_store = false;
    result.store_workers = 2;
    result.resume_unfinished = false;
    // One sweep at start where a test asks for it; `run_all` would never end with a periodic one.
    result.resume_sweep_interval = std::chrono::milliseconds{0};
    result.wall_clock = [this] { return orch::testing::tick(++clock_ticks); };
    return result;
  }

  void start_engine(engine_config ec) {
    engine = spawn_deployment_engine(sys, std::move(ec),
                                     engine_deps{repo, {{"RegionOne", cloud}}, &metrics});
  }

  uuid create_pending() {
    auto rec = orch::testing::pending_record();
    rec.id = uuid::random();
    rec.name = "app-" + to_string(rec.id).substr(0, 8); // names are unique
    auto made = repo.create(rec, std::nullopt);
    BOOST_REQUIRE(made);
    return made->deployment_id;
  }

  /// Runs every message and then every timer, until nothing is left.
  void run_all() {
    for (int i = 0; i < 100'000; ++i) {
      sched.run();
      if (!sched.trigger_timeout()) return;
    }
    BOOST_FAIL("the actors never came to rest");
  }

  deployment_status status_of(const uuid& id) {
    auto rec = repo.get(id);
    BOOST_REQUIRE(rec);
    return rec->status;
  }

  std::optional<caf::expected<deployment_record>> remove(const uuid& id) {
    auto answer = std::make_shared<std::optional<caf::expected<deployment_record>>>();
    engine->remove(id, [answer](caf::expected<deployment_record> x) { *answer = std::move(x); });
    sched.run();
    return *answer;
  }

  /// The value of series `name` with a label of value `label` (or without labels if empty).
  double metric(const std::string& name, const std::string& label) {
    for (const auto& family : registry.Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric)
        if (label.empty() && m.label.empty())
          return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
      for (const auto& m : family.metric)
        for (const auto& l : m.label)
          if (l.value == label)
            return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
    }
    return 0;
  }

  ~engine_fixture() {
    engine.reset();
    // Timers too: a pending request only ends when its timeout fires.
    for (int i = 0; i < 100'000; ++i) {
      sched.run();
      if (!sched.trigger_timeout()) break;
    }
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(deployment_engine, engine_fixture)

BOOST_AUTO_TEST_CASE(started_deployment_reaches_completed_with_every_planned_resource) {
  auto id = create_pending();
  start_engine(config());
  engine->start(id);
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::completed);
  BOOST_TEST(cloud->count(resource_kind::network) == 1u);
  BOOST_TEST(cloud->count(resource_kind::subnet) == 3u);
  BOOST_TEST(cloud->count(resource_kind::router) == 1u);
  BOOST_TEST(cloud->count(resource_kind::server) == 6u);
  BOOST_TEST(cloud->count(resource_kind::volume) == 3u);
  BOOST_TEST(cloud->links.size() == 1u + 3u + 3u); // gateway, interfaces, attachments
  BOOST_TEST(metric("deployments_total", "completed") == 1.0);
  // Passivated once idle: no deployment or child actor is left running.
  BOOST_TEST(metric("actors_live", "deployment") == 0.0);
  BOOST_TEST(metric("actors_live", "child") == 0.0);
}

BOOST_AUTO_TEST_CASE(waits_for_booting_servers_do_not_hold_up_the_creates_behind_them) {
  cloud->hold_waits = true; // no server or volume gets ready until released
  auto id = create_pending();
  auto ec = config();
  ec.max_parallel_commands = 2;
  start_engine(ec);
  engine->start(id);
  sched.run();
  BOOST_TEST(cloud->count(resource_kind::server) == 6u);
  BOOST_TEST(cloud->count(resource_kind::volume) == 3u);
  BOOST_TEST(cloud->held.size() == 9u, "every boot and volume is waited for at once");
  BOOST_TEST(metric("deployment_commands_in_flight", "") == 9.0);
  cloud->hold_waits = false;
  cloud->release_all();
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::completed);
  BOOST_TEST(metric("deployment_commands_in_flight", "") == 0.0);
}

BOOST_AUTO_TEST_CASE(starts_beyond_the_active_limit_wait_in_order_and_deletes_do_not) {
  cloud->hold_waits = true; // the first deployment keeps its actor busy until released
  auto first = create_pending();
  auto second = create_pending();
  auto third = create_pending();
  auto ec = config();
  ec.max_active_deployments = 1;
  ec.idle_timeout = std::chrono::milliseconds{10};
  start_engine(ec);
  for (const auto& id : {first, second, third}) engine->start(id);
  sched.run();
  BOOST_TEST(status_of(first) == deployment_status::in_progress);
  BOOST_TEST(status_of(second) == deployment_status::pending);
  BOOST_TEST(status_of(third) == deployment_status::pending);
  BOOST_TEST(metric("actors_live", "deployment") == 1.0);
  BOOST_TEST(metric("deployments_waiting_to_start", "") == 2.0);
  // A delete is answered at once, queue or not: the third leaves the queue as DELETING.
  auto removed = remove(third);
  BOOST_REQUIRE(removed.has_value());
  BOOST_REQUIRE(removed->engaged());
  BOOST_TEST(((*removed)->status == deployment_status::deleting
              || (*removed)->status == deployment_status::deleted));
  BOOST_TEST(metric("deployments_waiting_to_start", "") == 1.0);
  cloud->hold_waits = false;
  cloud->release_all();
  run_all();
  BOOST_TEST(status_of(first) == deployment_status::completed);
  BOOST_TEST(status_of(second) == deployment_status::completed);
  BOOST_TEST(status_of(third) == deployment_status::deleted);
  BOOST_TEST(metric("deployments_waiting_to_start", "") == 0.0);
}

BOOST_AUTO_TEST_CASE(node_start_resumes_every_unfinished_deployment) {
  auto a = create_pending();
  auto b = create_pending();
  auto ec = config();
  ec.resume_unfinished = true;
  start_engine(ec);
  run_all();
  BOOST_TEST(status_of(a) == deployment_status::completed);
  BOOST_TEST(status_of(b) == deployment_status::completed);
  BOOST_TEST(cloud->count(resource_kind::server) == 12u);
}

BOOST_AUTO_TEST_CASE(crashed_child_is_restarted_and_reissues_its_command_without_duplicates) {
  for (int nth = 1; nth <= 30; nth += 4) {
    BOOST_TEST_CONTEXT("child crash on command " << nth) {
      *cloud = fake_cloud{};
      auto id = create_pending();
      auto ec = config();
      ec.crash_child_on_command = nth;
      start_engine(ec);
      auto restarts_before = metric("actor_restarts_total", "child");
      engine->start(id);
      run_all();
      BOOST_TEST(status_of(id) == deployment_status::completed);
      BOOST_TEST(metric("actor_restarts_total", "child") == restarts_before + 1);
      BOOST_TEST(cloud->creates[resource_kind::server] == 6);
      BOOST_TEST(cloud->creates[resource_kind::network] == 1);
      BOOST_TEST(cloud->creates[resource_kind::volume] == 3);
      engine.reset();
      sched.run();
    }
  }
}

BOOST_AUTO_TEST_CASE(child_crashing_past_its_budget_fails_the_deployment_with_the_reason) {
  auto id = create_pending();
  auto ec = config();
  ec.crash_child_on_command = 1;
  ec.crash_child_times = 100;
  ec.child_restarts.max_restarts = 2;
  start_engine(ec);
  engine->start(id);
  run_all();
  auto rec = repo.get(id);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->status == deployment_status::failed);
  BOOST_REQUIRE(rec->operation && rec->operation->error);
  BOOST_TEST(rec->operation->error->code == "actor_crashed");
  BOOST_TEST(rec->operation->error->message.find("crashed repeatedly") != std::string::npos);
  BOOST_TEST(metric("deployments_total", "failed") == 1.0);
}

BOOST_AUTO_TEST_CASE(crashed_deployment_actor_is_restarted_from_its_snapshot) {
  auto id = create_pending();
  auto ec = config();
  ec.crash_deployment_on_start = 1;
  start_engine(ec);
  engine->start(id);
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::completed);
  BOOST_TEST(metric("actor_restarts_total", "deployment") == 1.0);
  BOOST_TEST(cloud->creates[resource_kind::server] == 6);
}

BOOST_AUTO_TEST_CASE(
  deployment_actor_crashing_past_its_budget_fails_the_deployment_instead_of_looping) {
  auto id = create_pending();
  auto ec = config();
  ec.crash_deployment_on_start = 1;
  ec.crash_deployment_times = 100;
  ec.deployment_restarts.max_restarts = 2;
  start_engine(ec);
  engine->start(id);
  run_all();
  auto rec = repo.get(id);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->status == deployment_status::failed);
  BOOST_REQUIRE(rec->operation && rec->operation->error);
  BOOST_TEST(rec->operation->error->code == "actor_crashed");
  BOOST_TEST(metric("actor_restarts_total", "deployment") == 2.0);
  BOOST_TEST(metric("actors_live", "deployment") == 0.0);
}

BOOST_AUTO_TEST_CASE(busy_deployment_whose_actor_keeps_crashing_is_failed_with_the_reason) {
  auto id = create_pending();
  {
    // A first node took the deployment to IN_PROGRESS and vanished.
    start_engine(config());
    cloud->hold = true;
    engine->start(id);
    sched.run();
    BOOST_REQUIRE(status_of(id) == deployment_status::in_progress);
    engine.reset();
    sched.run();
    cloud->held.clear();
    cloud->hold = false;
  }
  auto ec = config();
  ec.crash_deployment_on_start = 1;
  ec.crash_deployment_times = 100;
  ec.deployment_restarts.max_restarts = 2;
  ec.resume_unfinished = true;
  start_engine(ec);
  run_all();
  auto rec = repo.get(id);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->status == deployment_status::failed);
  BOOST_REQUIRE(rec->operation && rec->operation->error);
  BOOST_TEST(rec->operation->error->code == "actor_crashed");
  BOOST_TEST(rec->operation->error->message.find("runtime_error") != std::string::npos);
  BOOST_TEST(metric("deployments_total", "failed") == 1.0);
}

BOOST_AUTO_TEST_CASE(permanent_boot_failure_fails_and_delete_still_removes_everything) {
  cloud->fail_boots = 100;
  auto id = create_pending();
  start_engine(config());
  engine->start(id);
  run_all();
  auto rec = repo.get(id);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->status == deployment_status::failed);
  BOOST_REQUIRE(rec->operation && rec->operation->error);
  BOOST_TEST(rec->operation->error->code == "server_error");
  BOOST_TEST(rec->operation->error->message == "No valid host was found.");
  cloud->hold = true; // the deletion's cloud work waits until released
  auto removed = remove(id);
  BOOST_REQUIRE(removed.has_value());
  BOOST_REQUIRE(*removed);
  BOOST_TEST((*removed)->status == deployment_status::deleting);
  BOOST_TEST(status_of(id) == deployment_status::deleting); // committed before the answer
  cloud->hold = false;
  cloud->release_all();
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::deleted);
  BOOST_TEST(cloud->resources.empty());
  BOOST_TEST(cloud->links.empty());
}

BOOST_AUTO_TEST_CASE(remove_of_a_running_deploy_cancels_it_and_cleans_up) {
  auto id = create_pending();
  start_engine(config());
  cloud->hold = true;
  engine->start(id);
  sched.run();
  cloud->release_all(); // network and more are made, the deploy is still running
  sched.run();
  auto removed = remove(id);
  BOOST_REQUIRE(removed.has_value());
  BOOST_REQUIRE(*removed);
  BOOST_TEST((*removed)->status == deployment_status::deleting);
  for (int i = 0; i < 1000 && (cloud->release_all() > 0 || sched.run() > 0); ++i)
    ;
  cloud->hold = false;
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::deleted);
  BOOST_TEST(cloud->resources.empty());
}

BOOST_AUTO_TEST_CASE(late_answers_of_cancelled_waits_do_not_fail_the_delete) {
  cloud->fail_boots = 100;
  cloud->hold_waits = true; // servers are booting when the delete comes
  auto id = create_pending();
  start_engine(config());
  engine->start(id);
  sched.run();
  BOOST_REQUIRE(!cloud->held.empty());
  auto removed = remove(id);
  BOOST_REQUIRE(removed.has_value());
  BOOST_REQUIRE(*removed);
  sched.run();
  cloud->hold_waits = false;
  cloud->release_all(); // the boots fail now, after the delete took over
  run_all();
  auto rec = repo.get(id);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->status == deployment_status::deleted);
  BOOST_TEST(cloud->resources.empty());
}

BOOST_AUTO_TEST_CASE(cancelled_waits_stop_polling_in_the_cloud) {
  cloud->hold_waits = true;
  auto id = create_pending();
  start_engine(config());
  engine->start(id);
  sched.run();
  BOOST_TEST(cloud->held.size() == 9u);
  auto removed = remove(id);
  BOOST_REQUIRE(removed.has_value());
  sched.run();
  BOOST_TEST(cloud->cancelled.size() == 9u, "every wait of the cancelled deploy is given up");
  cloud->hold_waits = false;
  cloud->release_all();
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::deleted);
  BOOST_TEST(cloud->resources.empty());
}

BOOST_AUTO_TEST_CASE(a_lost_answer_is_sent_again_and_nothing_is_made_twice) {
  cloud->drop_answers = 1; // the network is created, but its answer never comes
  auto id = create_pending();
  start_engine(config());
  engine->start(id);
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::completed);
  BOOST_TEST(cloud->creates[resource_kind::network] == 1);
  BOOST_TEST(cloud->count(resource_kind::network) == 1u);
}

BOOST_AUTO_TEST_CASE(answers_lost_for_good_fail_the_step_with_timeout) {
  cloud->drop_answers = 1000;
  auto id = create_pending();
  start_engine(config());
  engine->start(id);
  run_all();
  auto rec = repo.get(id);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->status == deployment_status::failed);
  BOOST_REQUIRE(rec->operation && rec->operation->error);
  BOOST_TEST(rec->operation->error->code == "timeout");
  BOOST_TEST(cloud->creates[resource_kind::network] == 1);
}

BOOST_AUTO_TEST_CASE(a_database_outage_at_start_is_waited_out_without_spending_restarts) {
  auto id = create_pending();
  auto ec = config();
  ec.deployment_restarts.max_restarts = 1;
  start_engine(ec);
  repo.set_failure(make_error(errc::store_unavailable, "database down"));
  engine->start(id);
  for (int i = 0; i < 20; ++i) { // far more tries than the restart budget allows
    sched.run();
    sched.trigger_timeout();
  }
  BOOST_TEST(metric("actor_restarts_total", "deployment") == 0.0);
  repo.set_failure({});
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::completed);
}

BOOST_AUTO_TEST_CASE(the_sweep_retries_a_failed_listing_and_starts_what_has_no_actor) {
  auto id = create_pending();
  auto ec = config();
  ec.resume_unfinished = true;
  ec.resume_sweep_interval = std::chrono::milliseconds{1'000};
  repo.set_failure(make_error(errc::store_unavailable, "database down"));
  start_engine(ec);
  for (int i = 0; i < 5; ++i) {
    sched.run();
    sched.trigger_timeout();
  }
  repo.set_failure({});
  BOOST_TEST(status_of(id) == deployment_status::pending);
  for (int i = 0; i < 200 && status_of(id) != deployment_status::completed; ++i) {
    sched.run();
    sched.trigger_timeout();
  }
  BOOST_TEST(status_of(id) == deployment_status::completed);
  // A deployment created later, while the node runs, is found by the next sweep.
  auto later = create_pending();
  for (int i = 0; i < 200 && status_of(later) != deployment_status::completed; ++i) {
    sched.run();
    sched.trigger_timeout();
  }
  BOOST_TEST(status_of(later) == deployment_status::completed);
}

BOOST_AUTO_TEST_CASE(remove_of_an_unknown_deployment_answers_not_found) {
  start_engine(config());
  auto removed = remove(uuid::random());
  BOOST_REQUIRE(removed.has_value());
  BOOST_REQUIRE(!*removed);
  BOOST_TEST(is(removed->error(), errc::not_found));
}

BOOST_AUTO_TEST_CASE(a_deployment_leased_by_a_live_node_is_left_to_it) {
  auto id = create_pending();
  BOOST_REQUIRE(repo.claim(id, {"other-node", std::chrono::seconds{10}}));
  auto events_before = repo.events(id, 0, 1000);
  BOOST_REQUIRE(events_before);
  auto ec = config();
  ec.resume_unfinished = true;
  start_engine(ec);
  engine->start(id);
  run_all();
  BOOST_TEST(repo.events(id, 0, 1000)->size() == events_before->size());
  BOOST_TEST(repo.get(id)->epoch == 1);
  BOOST_TEST(repo.lease_of(id)->first == "other-node");
  BOOST_TEST(cloud->creates.empty());
  BOOST_TEST(metric("actors_live", "deployment") == 0.0);
  BOOST_TEST(metric("actor_restarts_total", "deployment") == 0.0);
}

BOOST_AUTO_TEST_CASE(an_expired_lease_is_taken_over_and_counted) {
  auto id = create_pending();
  BOOST_REQUIRE(repo.claim(id, {"dead-node", std::chrono::seconds{10}}));
  repo_now += std::chrono::seconds{11};
  auto ec = config();
  ec.resume_unfinished = true;
  ec.lease.node_id = "survivor";
  start_engine(ec);
  run_all();
  BOOST_TEST(status_of(id) == deployment_status::completed);
  BOOST_TEST(repo.get(id)->epoch == 2);
  BOOST_TEST(repo.lease_of(id)->first == "survivor");
  BOOST_TEST(metric("cluster_lease_takeovers_total", "") == 1.0);
}

BOOST_AUTO_TEST_CASE(stop_ends_the_actors_of_lost_leases_without_a_restart) {
  auto id = create_pending();
  start_engine(config());
  cloud->hold = true;
  engine->start(id);
  sched.run();
  BOOST_REQUIRE(!cloud->held.empty());
  BOOST_TEST(metric("actors_live", "deployment") == 1.0);
  engine->stop({id});
  sched.run();
  BOOST_TEST(metric("actors_live", "deployment") == 0.0);
  auto events_before = repo.events(id, 0, 1000)->size();
  cloud->release_all();
  run_all();
  BOOST_TEST(repo.events(id, 0, 1000)->size() == events_before);
  BOOST_TEST(metric("actor_restarts_total", "deployment") == 0.0);
}

BOOST_AUTO_TEST_CASE(fenced_out_actor_stops_without_writing) {
  auto id = create_pending();
  start_engine(config());
  cloud->hold = true;
  engine->start(id);
  sched.run();
  BOOST_REQUIRE(!cloud->held.empty());
  auto events_before = repo.events(id, 0, 1000);
  BOOST_REQUIRE(events_before);
  // Another node takes the deployment over once this node's lease ran out.
  repo_now += std::chrono::hours{1};
  BOOST_REQUIRE(repo.claim(id, {"other-node", std::chrono::seconds{10}}));
  cloud->release_all();
  sched.run();
  auto events_after = repo.events(id, 0, 1000);
  BOOST_REQUIRE(events_after);
  BOOST_TEST(events_after->size() == events_before->size());
  BOOST_TEST(metric("actors_live", "deployment") == 0.0);
  BOOST_TEST(status_of(id) == deployment_status::in_progress);
}

BOOST_AUTO_TEST_SUITE_END()
