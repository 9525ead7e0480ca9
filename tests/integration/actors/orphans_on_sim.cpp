#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include "fsm_driver.hpp"
#include "orch/actors/orphan_finder.hpp"
#include "orch/http/client_transport.hpp"
#include "orch/persistence/migrate.hpp"
#include "orch/persistence/pg_deployment_repository.hpp"
#include "orch/persistence/pool.hpp"
#include "sim_fixture.hpp"
#include "test_database.hpp"

using namespace orch;
namespace os = orch::openstack;
using namespace std::chrono_literals;
using actors::orphan;
using actors::orphan_kind;
using actors::orphan_reason;

namespace {

using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

/// An io_context run by its own thread until destroyed.
struct executor_thread {
  boost::asio::io_context ioc{1};
  work_guard work{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};

  ~executor_thread() { stop(); }

  /// Ends the thread but keeps the io_context, whose sockets may still be closed by their
  /// owners (the transport) afterwards.
  void stop() {
    work.reset();
    ioc.stop();
    if (thread.joinable()) thread.join();
  }

  actors::executor_function post() {
    return [this](std::function<void()> fn) { boost::asio::post(ioc, std::move(fn)); };
  }
};

/// What one deployment owns in the cloud, as made by `seed`.
struct seeded {
  std::map<orphan_kind, std::string> ids;
};

/// PostgreSQL, the simulator, a client on the test thread to seed the cloud, and the finder as
/// `main` wires it (cloud calls on one I/O thread, repository reads on another).
struct orphans_fixture {
  orch::testing::test_database db;
  persistence::pool pool{persistence::pool_config{db.url(), 2}};
  std::unique_ptr<persistence::deployment_repository> repo;
  os::testing::sim_process sim{{"--boot-time", "fixed:50ms", "--delete-time", "fixed:50ms"}};
  os::testing::client_env env{sim, os::testing::client_env::default_config(sim)};
  std::unique_ptr<executor_thread> cloud_thread = std::make_unique<executor_thread>();
  std::unique_ptr<executor_thread> store_thread = std::make_unique<executor_thread>();
  std::unique_ptr<http::client_transport> transport;
  std::shared_ptr<actors::orphan_finder> uut;

  orphans_fixture() {
    BOOST_REQUIRE_MESSAGE(persistence::migrate(pool), "migration failed");
    repo = persistence::make_pg_deployment_repository(pool);
    auto made = http::client_transport::make(cloud_thread->ioc.get_executor(), {});
    BOOST_REQUIRE(made);
    transport = std::move(*made);
    actors::openstack_orphan_finder_config cfg;
    cfg.client = os::testing::client_env::default_config(sim);
    cfg.poll_interval = 50ms;
    cfg.delete_timeout = 20s;
    cfg.conflict_delay = 100ms;
    uut = actors::make_openstack_orphan_finder(cfg, *transport, *transport, *transport,
                                               cloud_thread->post(), store_thread->post(), *repo);
  }

  ~orphans_fixture() {
    // Stop the threads before the finder and transport they call into go away, and destroy the
    // io_context only after the transport that closes its sockets.
    cloud_thread->stop();
    store_thread->stop();
    uut.reset();
    transport.reset();
    cloud_thread.reset();
    store_thread.reset();
  }

  uuid create_deployment(const std::string& name, bool deleted) {
    auto rec = orch::testing::pending_record();
    rec.id = uuid::random();
    rec.name = name;
    auto made = repo->create(rec, std::nullopt);
    BOOST_REQUIRE(made);
    if (deleted) {
      auto stored = repo->get(rec.id);
      BOOST_REQUIRE(stored);
      persistence::event_batch batch;
      batch.events.push_back(
        {0, stored->updated_at, status_changed{stored->status, deployment_status::deleted}});
      stored->status = deployment_status::deleted;
      stored->deleted_at = stored->updated_at;
      batch.state = *stored;
      BOOST_REQUIRE(repo->append_events(rec.id, stored->epoch, batch));
    }
    return rec.id;
  }

  /// Makes one resource of every kind directly through the cloud's API, marked as owned by
  /// `owner`, the router linked to the subnet as a deployment links it.
  seeded seed(const std::string& owner, int n) {
    seeded out;
    std::vector<std::string> tags{"orch-deployment=" + owner};
    auto prefix = "seed" + std::to_string(n);
    auto tag = [&](os::neutron_collection coll, const std::string& id) {
      auto r = env.await<std::vector<std::string>>(
        [&](auto cb) { env.os->replace_tags(coll, id, tags, cb); });
      BOOST_REQUIRE(r);
    };
    os::network_spec ns;
    ns.name = prefix + "-net";
    auto net = env.await<os::network>([&](auto cb) { env.os->create_network(ns, cb); });
    BOOST_REQUIRE(net);
    tag(os::neutron_collection::networks, net->id);
    out.ids[orphan_kind::network] = net->id;
    os::subnet_spec ss;
    ss.network_id = net->id;
    ss.name = prefix + "-sub";
    ss.cidr = "10." + std::to_string(n) + ".0.0/24";
    auto sub = env.await<os::subnet>([&](auto cb) { env.os->create_subnet(ss, cb); });
    BOOST_REQUIRE(sub);
    tag(os::neutron_collection::subnets, sub->id);
    out.ids[orphan_kind::subnet] = sub->id;
    os::router_spec rs;
    rs.name = prefix + "-router";
    auto rt = env.await<os::router>([&](auto cb) { env.os->create_router(rs, cb); });
    BOOST_REQUIRE(rt);
    tag(os::neutron_collection::routers, rt->id);
    out.ids[orphan_kind::router] = rt->id;
    auto link = env.await<os::router_interface>(
      [&](auto cb) { env.os->add_router_interface(rt->id, sub->id, cb); });
    BOOST_REQUIRE(link);
    auto made_port = env.await<os::http_result>([&](auto cb) {
      env.os->call(os::service::network, "POST", "/v2.0/ports",
                   R"({"port": {"network_id": ")" + net->id + R"(", "name": ")" + prefix
                     + R"(-port", "tags": [")" + tags[0] + R"("]}})",
                   "create_port", cb);
    });
    BOOST_REQUIRE(made_port);
    os::port_filter pf;
    pf.network_id = net->id;
    auto ports = env.await<std::vector<os::port>>([&](auto cb) { env.os->list_ports(pf, cb); });
    BOOST_REQUIRE(ports);
    for (const auto& p : *ports)
      if (p.name == prefix + "-port") out.ids[orphan_kind::port] = p.id;
    BOOST_REQUIRE(out.ids.count(orphan_kind::port) == 1u);
    auto img = env.await<os::image>([&](auto cb) { env.os->find_image("cirros", cb); });
    BOOST_REQUIRE(img);
    auto spec = os::testing::tiny_server(prefix + "-vm", img->id);
    spec.tags = tags;
    auto srv = env.await<os::created_server>([&](auto cb) { env.os->create_server(spec, cb); });
    BOOST_REQUIRE(srv);
    out.ids[orphan_kind::server] = srv->id;
    os::volume_spec vs;
    vs.name = prefix + "-vol";
    vs.metadata = {{"orch-deployment", owner}};
    auto vol = env.await<os::volume>([&](auto cb) { env.os->create_volume(vs, cb); });
    BOOST_REQUIRE(vol);
    out.ids[orphan_kind::volume] = vol->id;
    return out;
  }

  std::vector<orphan> list() {
    std::promise<caf::expected<std::vector<orphan>>> answer;
    uut->list([&](caf::expected<std::vector<orphan>> x) { answer.set_value(std::move(x)); });
    auto fut = answer.get_future();
    BOOST_REQUIRE(fut.wait_for(30s) == std::future_status::ready);
    auto got = fut.get();
    BOOST_REQUIRE_MESSAGE(got, "list failed: " << (got ? std::string{} : to_string(got.error())));
    return *got;
  }

  /// Ids of every resource of the simulator's state, by collection.
  std::set<std::string> cloud_ids() {
    std::set<std::string> out;
    auto st = sim.state();
    for (auto coll : {"servers", "volumes", "networks", "subnets", "routers", "ports"})
      for (const auto& x : st[coll].GetArray()) out.emplace(x["id"].GetString());
    return out;
  }
};

/// The orphans of `items` owned by `owner`, by kind.
std::map<orphan_kind, orphan> owned_by(const std::vector<orphan>& items, const uuid& owner) {
  std::map<orphan_kind, orphan> out;
  for (const auto& x : items)
    if (x.deployment_id == to_string(owner)) out.emplace(x.kind, x);
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(orphans_on_sim, orphans_fixture)

BOOST_AUTO_TEST_CASE(resources_of_deleted_and_unknown_deployments_are_listed_then_cleaned_up) {
  auto unknown = uuid::random();
  auto deleted = create_deployment("gone", true);
  auto live = create_deployment("live", false);
  auto unknown_res = seed(to_string(unknown), 1);
  auto deleted_res = seed(to_string(deleted), 2);
  auto live_res = seed(to_string(live), 3);

  auto items = list();
  BOOST_TEST(items.size() == 12u);
  auto of_unknown = owned_by(items, unknown);
  auto of_deleted = owned_by(items, deleted);
  BOOST_TEST(owned_by(items, live).empty());
  BOOST_REQUIRE(of_unknown.size() == 6u);
  BOOST_REQUIRE(of_deleted.size() == 6u);
  for (const auto& [kind, id] : unknown_res.ids) {
    BOOST_TEST_CONTEXT(to_string(kind)) {
      BOOST_TEST(of_unknown[kind].id == id);
      BOOST_TEST(to_string(of_unknown[kind].reason) == "deployment_unknown");
    }
  }
  for (const auto& [kind, id] : deleted_res.ids) {
    BOOST_TEST_CONTEXT(to_string(kind)) {
      BOOST_TEST(of_deleted[kind].id == id);
      BOOST_TEST(to_string(of_deleted[kind].reason) == "deployment_deleted");
    }
  }

  std::promise<actors::orphan_cleanup_report> finished;
  std::promise<caf::expected<std::vector<orphan>>> started;
  uut->cleanup([&](caf::expected<std::vector<orphan>> x) { started.set_value(std::move(x)); },
               [&](actors::orphan_cleanup_report r) { finished.set_value(std::move(r)); });
  auto accepted = started.get_future().get();
  BOOST_REQUIRE(accepted);
  BOOST_TEST(accepted->size() == 12u);
  auto done = finished.get_future();
  BOOST_REQUIRE(done.wait_for(60s) == std::future_status::ready);
  auto report = done.get();
  for (const auto& [x, why] : report.failed)
    BOOST_TEST_MESSAGE("not deleted: " << to_string(x.kind) << " " << x.id << ": " << why);
  BOOST_TEST(report.failed.empty());
  BOOST_TEST(report.deleted.size() == 12u);

  BOOST_TEST(list().empty());
  auto left = cloud_ids();
  for (const auto& res : {unknown_res, deleted_res})
    for (const auto& [kind, id] : res.ids)
      BOOST_TEST(left.count(id) == 0u, to_string(kind) << " " << id << " still exists");
  for (const auto& [kind, id] : live_res.ids)
    BOOST_TEST(left.count(id) == 1u, "live " << to_string(kind) << " " << id << " was deleted");
}

BOOST_AUTO_TEST_CASE(a_cloud_with_only_live_deployments_has_no_orphans) {
  auto live = create_deployment("live", false);
  seed(to_string(live), 4);
  BOOST_TEST(list().empty());
}

BOOST_AUTO_TEST_SUITE_END()
