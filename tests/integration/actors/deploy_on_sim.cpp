#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <thread>

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

using namespace orch;
using namespace std::chrono_literals;

namespace {

/// One orchestrator node as `main` wires it: PostgreSQL repository, the simulator over real
/// HTTP on an io_context thread, and the engine on a real actor system.
struct node_fixture {
  orch::testing::test_database db;
  persistence::pool pool{persistence::pool_config{db.url(), 4}};
  std::unique_ptr<persistence::deployment_repository> repo;
  openstack::testing::sim_process sim{
    {"--boot-time", "fixed:200ms", "--delete-time", "fixed:100ms"}};
  boost::asio::io_context ioc{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  std::unique_ptr<http::client_transport> transport;
  std::shared_ptr<actors::cloud_commands> commands;
  std::thread io_thread;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<actors::deployment_engine> engine;

  node_fixture() {
    auto migrated = persistence::migrate(pool);
    BOOST_REQUIRE_MESSAGE(migrated, "migration failed");
    repo = persistence::make_pg_deployment_repository(pool);
    auto made = http::client_transport::make(ioc.get_executor(), {});
    BOOST_REQUIRE(made);
    transport = std::move(*made);
    actors::openstack_commands_config occ;
    occ.client = openstack::testing::client_env::default_config(sim);
    occ.poller.fast_interval = 100ms;
    occ.poller.idle_interval = 500ms;
    occ.boot_timeout = 30s;
    occ.conflict_delay = 100ms;
    commands = actors::make_openstack_commands(
      occ, *transport, *transport, *transport,
      [this](std::function<void()> fn) { boost::asio::post(ioc, std::move(fn)); });
    io_thread = std::thread{[this] { ioc.run(); }};
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    actors::engine_config ec;
    ec.store_workers = 2;
    ec.resume_unfinished = false;
    ec.idle_timeout = 1s;
    engine = actors::spawn_deployment_engine(*sys, ec,
                                             actors::engine_deps{*repo, {{"RegionOne", commands}}});
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

  uuid create_deployment(const std::string& name) {
    auto rec = orch::testing::pending_record();
    rec.id = uuid::random();
    rec.name = name;
    auto made = repo->create(rec, std::nullopt);
    BOOST_REQUIRE(made);
    return made->deployment_id;
  }

  /// Polls the stored status (what the API shows) until it is one of `wanted`.
  deployment_record wait_for(const uuid& id, std::set<deployment_status> wanted,
                             std::chrono::seconds patience = 20s) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
      auto rec = repo->get(id);
      BOOST_REQUIRE(rec);
      if (wanted.count(rec->status) > 0) return *rec;
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "deployment still " << to_string(rec->status) << describe(*rec));
      std::this_thread::sleep_for(100ms);
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
    BOOST_REQUIRE(fut.wait_for(30s) == std::future_status::ready);
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

} // namespace

BOOST_FIXTURE_TEST_SUITE(deploy_on_sim, node_fixture)

BOOST_AUTO_TEST_CASE(three_tier_template_deploys_to_completed_and_delete_leaves_nothing) {
  auto id = create_deployment("shop");
  engine->start(id);
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed});
  BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::completed,
                        "FAILED: " << (rec.operation && rec.operation->error
                                         ? rec.operation->error->message
                                         : std::string{"?"}));
  BOOST_TEST(rec.resources.vms.size() == 6u);
  BOOST_TEST(rec.resources.volumes.size() == 3u);
  auto owner = "orch-deployment=" + to_string(id);
  auto st = sim.state();
  // Network: ours plus `public`, tagged.
  std::string net_id;
  for (const auto& n : st["networks"].GetArray())
    if (str(n, "name") == "shop-net") {
      net_id = str(n, "id");
      BOOST_TEST(has_tag(n, owner));
    }
  BOOST_TEST(!net_id.empty());
  std::map<std::string, std::string> subnet_by_name;
  for (const auto& s : st["subnets"].GetArray())
    if (str(s, "network_id") == net_id) subnet_by_name[str(s, "name")] = str(s, "id");
  BOOST_TEST(subnet_by_name.size() == 3u);
  BOOST_TEST(st["routers"].Size() == 1u);
  // Six servers, ACTIVE, tagged, each with one port on its group's subnet.
  BOOST_TEST(st["servers"].Size() == 6u);
  for (const auto& s : st["servers"].GetArray()) {
    auto name = str(s, "name");
    BOOST_TEST_CONTEXT("server " << name) {
      BOOST_TEST(str(s, "status") == "ACTIVE");
      BOOST_TEST(has_tag(s, owner));
      auto group = name.substr(5, name.rfind('-') - 5); // shop-<group>-<n>
      int ports = 0;
      for (const auto& p : st["ports"].GetArray())
        if (str(p, "device_id") == str(s, "id")) {
          ++ports;
          BOOST_TEST(str(p["fixed_ips"][0], "subnet_id") == subnet_by_name["shop-" + group]);
        }
      BOOST_TEST(ports == 1);
    }
  }
  // Router interfaces on the three subnets.
  int interfaces = 0;
  for (const auto& p : st["ports"].GetArray())
    if (str(p, "device_owner") == "network:router_interface") ++interfaces;
  BOOST_TEST(interfaces == 3);
  // Three volumes, in use by app servers.
  BOOST_TEST(st["volumes"].Size() == 3u);
  for (const auto& v : st["volumes"].GetArray()) BOOST_TEST(str(v, "status") == "in-use");

  auto removed = remove(id);
  BOOST_TEST(removed.status == deployment_status::deleting);
  wait_for(id, {deployment_status::deleted});
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_CASE(node_restart_mid_deploy_resumes_without_duplicate_resources) {
  auto id = create_deployment("resumed");
  engine->start(id);
  // Stop the node as soon as the first VM is recorded: creates are in flight then.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto rec = repo->get(id);
    BOOST_REQUIRE(rec);
    if (!rec->resources.vms.empty()) break;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "no VM recorded");
    std::this_thread::sleep_for(20ms);
  }
  engine.reset();
  sys->await_all_actors_done();
  actors::engine_config ec;
  ec.store_workers = 2;
  ec.resume_unfinished = true; // a node start picks the deployment up again
  ec.idle_timeout = 1s;
  engine = actors::spawn_deployment_engine(*sys, ec,
                                           actors::engine_deps{*repo, {{"RegionOne", commands}}});
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed});
  BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::completed, describe(rec));
  auto st = sim.state();
  BOOST_TEST(st["servers"].Size() == 6u);
  BOOST_TEST(st["volumes"].Size() == 3u);
  BOOST_TEST(st["routers"].Size() == 1u);
  BOOST_TEST(st["networks"].Size() == 2u);
  BOOST_TEST(st["subnets"].Size() == 4u); // ours and public's
  remove(id);
  wait_for(id, {deployment_status::deleted});
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_CASE(permanent_boot_failure_fails_with_the_reason_and_delete_cleans_up) {
  auto [status, body] = sim.control("POST", "/_sim/boot-failures", R"({"count": 100})");
  BOOST_REQUIRE_MESSAGE(status / 100 == 2, body);
  auto id = create_deployment("broken");
  engine->start(id);
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed});
  BOOST_REQUIRE(rec.status == deployment_status::failed);
  BOOST_REQUIRE(rec.operation && rec.operation->error);
  BOOST_TEST(rec.operation->error->code == "server_error");
  BOOST_TEST(rec.operation->error->message.find("No valid host") != std::string::npos);
  sim.control("DELETE", "/_sim/faults");
  remove(id);
  wait_for(id, {deployment_status::deleted});
  check_cloud_is_empty();
}

BOOST_AUTO_TEST_SUITE_END()
