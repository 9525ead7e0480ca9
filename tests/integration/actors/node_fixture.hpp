#pragma once

// One orchestrator node as `main` wires it, against a scratch PostgreSQL database and the
// real openstack-sim binary over HTTP. Shared by the suites of tests/integration/actors.

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "fsm_driver.hpp"
#include "orch/actors/engine.hpp"
#include "orch/http/client_transport.hpp"
#include "orch/persistence/migrate.hpp"
#include "orch/persistence/pg_deployment_repository.hpp"
#include "orch/persistence/pool.hpp"
#include "sim_fixture.hpp"
#include "test_database.hpp"

namespace orch::testing {

/// Simulator flags of `node_fixture` unless a suite asks for others: quick boots and deletes.
inline std::vector<std::string> default_sim_flags() {
  return {"--boot-time", "fixed:200ms", "--delete-time", "fixed:100ms"};
}

/// PostgreSQL repository, the simulator over real HTTP on an io_context thread, and the
/// engine on a real actor system.
struct node_fixture {
  using tune_fn = std::function<void(actors::openstack_commands_config&)>;

  orch::testing::test_database db;
  persistence::pool pool{persistence::pool_config{db.url(), 4}};
  std::unique_ptr<persistence::deployment_repository> repo;
  openstack::testing::sim_process sim;
  boost::asio::io_context ioc{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  std::unique_ptr<http::client_transport> transport;
  std::shared_ptr<actors::cloud_commands> commands;
  std::thread io_thread;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<actors::deployment_engine> engine;

  /// Starts the simulator with `sim_flags`; `tune` may change the cloud settings.
  explicit node_fixture(std::vector<std::string> sim_flags = default_sim_flags(),
                        tune_fn tune = nullptr)
    : sim(std::move(sim_flags)) {
    auto migrated = persistence::migrate(pool);
    BOOST_REQUIRE_MESSAGE(migrated, "migration failed");
    repo = persistence::make_pg_deployment_repository(pool);
    auto made = http::client_transport::make(ioc.get_executor(), {});
    BOOST_REQUIRE(made);
    transport = std::move(*made);
    actors::openstack_commands_config occ;
    occ.client = openstack::testing::client_env::default_config(sim);
    occ.poller.fast_interval = std::chrono::milliseconds{100};
    occ.poller.idle_interval = std::chrono::milliseconds{500};
    occ.boot_timeout = std::chrono::seconds{30};
    occ.conflict_delay = std::chrono::milliseconds{100};
    if (tune) tune(occ);
    commands = actors::make_openstack_commands(
      occ, *transport, *transport, *transport,
      [this](std::function<void()> fn) { boost::asio::post(ioc, std::move(fn)); });
    io_thread = std::thread{[this] { ioc.run(); }};
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    engine = spawn_engine(false);
  }

  ~node_fixture() {
    engine.reset();
    sys->await_all_actors_done();
    sys.reset();
    work.reset();
    ioc.stop();
    io_thread.join();
    commands.reset();
    transport.reset();
  }

  /// An engine on this node's actor system; `resume` picks unfinished deployments up, as a
  /// node start does.
  std::unique_ptr<actors::deployment_engine> spawn_engine(bool resume) {
    actors::engine_config ec;
    ec.store_workers = 2;
    ec.resume_unfinished = resume;
    ec.idle_timeout = std::chrono::seconds{1};
    return actors::spawn_deployment_engine(*sys, ec,
                                           actors::engine_deps{*repo, {{"RegionOne", commands}}});
  }

  uuid create_deployment(const std::string& name, template_spec spec = three_tier()) {
    auto rec = pending_record(std::move(spec));
    rec.id = uuid::random();
    rec.name = name;
    auto made = repo->create(rec, std::nullopt);
    BOOST_REQUIRE(made);
    return made->deployment_id;
  }

  /// Polls the stored status (what the API shows) until it is one of `wanted`.
  deployment_record wait_for(const uuid& id, std::set<deployment_status> wanted,
                             std::chrono::seconds patience = std::chrono::seconds{20}) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
      auto rec = repo->get(id);
      BOOST_REQUIRE(rec);
      if (wanted.count(rec->status) > 0) return *rec;
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "deployment still " << to_string(rec->status) << describe(*rec));
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }

  static std::string describe(const deployment_record& rec) {
    if (!rec.operation) return {};
    auto text = " after " + to_string(rec.operation->type);
    if (rec.operation->error)
      text += ": " + rec.operation->error->code + " " + rec.operation->error->message + " ("
              + rec.operation->error->resource + ")";
    return text;
  }

  deployment_record remove(const uuid& id) {
    std::promise<caf::expected<deployment_record>> answer;
    engine->remove(id, [&](caf::expected<deployment_record> x) { answer.set_value(std::move(x)); });
    auto fut = answer.get_future();
    BOOST_REQUIRE(fut.wait_for(std::chrono::seconds{30}) == std::future_status::ready);
    auto rec = fut.get();
    BOOST_REQUIRE(rec);
    return *rec;
  }

  static std::string str(const rapidjson::Value& v, const char* key) {
    return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : std::string{};
  }

  static bool has_tag(const rapidjson::Value& v, const std::string& tag) {
    if (!v.HasMember("tags") || !v["tags"].IsArray()) return false;
    for (const auto& t : v["tags"].GetArray())
      if (t.IsString() && t.GetString() == tag) return true;
    return false;
  }

  /// Everything the deployment must have left behind in the cloud: nothing but `public`.
  void check_cloud_is_empty() {
    auto st = sim.state();
    BOOST_TEST(st["servers"].Size() == 0u);
    BOOST_TEST(st["volumes"].Size() == 0u);
    BOOST_TEST(st["routers"].Size() == 0u);
    BOOST_TEST(st["ports"].Size() == 0u);
    BOOST_TEST(st["networks"].Size() == 1u); // the simulator's own `public`
    for (const auto& n : st["networks"].GetArray()) BOOST_TEST(str(n, "name") == "public");
  }
};

} // namespace orch::testing
