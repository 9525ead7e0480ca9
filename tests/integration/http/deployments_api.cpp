#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include <boost/test/unit_test.hpp>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include "fake_deployment_engine.hpp"
#include "orch/http/api_routes.hpp"
#include "orch/http/event_feed.hpp"
#include "orch/http/problem.hpp"
#include "orch/http/server.hpp"
#include "orch/persistence/listener.hpp"
#include "orch/persistence/pg_deployment_repository.hpp"
#include "orch/persistence/pg_template_repository.hpp"
#include "orch/persistence/pool.hpp"
#include "orch/testing/http_client.hpp"
#include "test_database.hpp"

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using orch::testing::global_database;
using orch::testing::header_list;

namespace {

constexpr auto write_key = "write-key-0123456789";

constexpr auto template_body = R"({"name": "web-app-stack",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 2}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"web": "10.0.1.0/24"},
                     "router": true}})";

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "not JSON: " << text);
  return doc;
}

// The API over a real server and real PostgreSQL; the engine is the unit tests' fake.
struct api_fixture {
  api_fixture()
    : db(orch::persistence::pool_config{global_database::get().url(), 4}),
      templates(orch::persistence::make_pg_template_repository(db)),
      deployments(orch::persistence::make_pg_deployment_repository(db)), engine(*deployments),
      blocking(4), gw(gateway_config(), registry), feed_metrics(registry) {
    global_database::get().exec("TRUNCATE deployment_events, deployment_snapshots, "
                                "idempotency_keys, deployments, deployment_templates CASCADE");
    // No safety poll within a test's patience: live events must come from NOTIFY.
    orch::http::event_feed_config feed_cfg;
    feed_cfg.poll_interval = 1h;
    feed = std::make_unique<orch::http::event_feed>(
      feed_cfg, *deployments, [this](auto job) { blocking.run(std::move(job)); }, feed_metrics);
    orch::persistence::listener_config listen_cfg;
    listen_cfg.url = global_database::get().url();
    listen_cfg.channel = "deployment_events";
    listener = std::make_unique<orch::persistence::listener>(
      listen_cfg,
      [this](std::string_view payload) {
        if (auto id = orch::uuid::parse(payload)) feed->notify(*id);
      },
      [this] {
        std::lock_guard guard{listening_mtx};
        listening = true;
        listening_cv.notify_all();
      });
    {
      std::unique_lock lock{listening_mtx};
      BOOST_REQUIRE(listening_cv.wait_for(lock, 10s, [this] { return listening; }));
    }
    orch::http::api_dependencies deps{*templates, blocking, *deployments, &engine, {"RegionOne"}};
    deps.events = feed.get();
    orch::http::add_api_routes(gw, deps);
    orch::http::server_config cfg;
    cfg.error_response = orch::http::make_server_error_response;
    srv = std::make_unique<orch::http::server>(cfg, gw.as_handler());
    srv->start();
    client = std::make_unique<orch::testing::http_client>("127.0.0.1", srv->port());
    auto res = client->request(bhttp::verb::post, "/templates", template_body, keyed());
    BOOST_REQUIRE_EQUAL(res.result_int(), 201u);
  }

  ~api_fixture() {
    client.reset();
    srv->stop(1s);
    listener.reset();
    // Handler work still queued may subscribe to the feed: it runs out first.
    blocking.stop();
    feed.reset();
  }

  static orch::http::gateway_config gateway_config() {
    orch::http::gateway_config cfg;
    cfg.keys = {{write_key, orch::api_scope::write}};
    cfg.rate_limit_per_minute = 10'000;
    return cfg;
  }

  static header_list keyed(header_list more = {}) {
    more.emplace_back("X-API-Key", write_key);
    return more;
  }

  orch::testing::http_response post(const std::string& body, header_list headers = {}) {
    return client->request(bhttp::verb::post, "/deployments", body, keyed(std::move(headers)));
  }

  // Appends a status change as an engine would, with the record's epoch.
  void move_to(const std::string& id, orch::deployment_status to) {
    auto uid = *orch::uuid::parse(id);
    auto rec = deployments->get(uid);
    BOOST_REQUIRE(rec);
    orch::persistence::event_batch batch;
    batch.events.push_back({0, rec->updated_at, orch::status_changed{rec->status, to}});
    rec->status = to;
    if (to == orch::deployment_status::deleted) rec->deleted_at = rec->updated_at;
    batch.state = *rec;
    BOOST_REQUIRE(deployments->append_events(uid, rec->epoch, batch));
  }

  orch::persistence::pool db;
  std::unique_ptr<orch::persistence::template_repository> templates;
  std::unique_ptr<orch::persistence::deployment_repository> deployments;
  orch::testing::fake_deployment_engine engine;
  orch::http::blocking_pool blocking;
  prometheus::Registry registry;
  orch::http::gateway gw;
  orch::http::event_feed_metrics feed_metrics;
  std::unique_ptr<orch::http::event_feed> feed;
  std::unique_ptr<orch::persistence::listener> listener;
  std::mutex listening_mtx;
  std::condition_variable listening_cv;
  bool listening = false;
  std::unique_ptr<orch::http::server> srv;
  std::unique_ptr<orch::testing::http_client> client;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(deployments_api, api_fixture)

BOOST_AUTO_TEST_CASE(a_deployment_is_created_read_listed_and_deleted) {
  auto created = post(R"({"name": "my-app", "template": "web-app-stack",
                          "cloud_region": "RegionOne", "parameters": {"web_count": 3}})");
  BOOST_REQUIRE_EQUAL(created.result_int(), 202u);
  std::string id = parse(created.body())["id"].GetString();
  BOOST_TEST(created[bhttp::field::location] == "/deployments/" + id);
  BOOST_TEST(engine.started().size() == 1u);

  auto read = client->get("/deployments/" + id, keyed());
  BOOST_REQUIRE_EQUAL(read.result_int(), 200u);
  auto doc = parse(read.body());
  BOOST_TEST(std::string{doc["status"].GetString()} == "PENDING");
  BOOST_TEST(doc["template"]["vm_config"]["web"]["count"].GetInt() == 3);

  auto list = parse(client->get("/deployments?name=my-", keyed()).body());
  BOOST_TEST(list["total"].GetInt() == 1);

  auto removed = client->request(bhttp::verb::delete_, "/deployments/" + id, {}, keyed());
  BOOST_TEST(removed.result_int() == 202u);
  BOOST_TEST(std::string{parse(removed.body())["status"].GetString()} == "DELETING");
  auto events = parse(client->get("/deployments/" + id + "/events", keyed()).body());
  BOOST_REQUIRE_EQUAL(events.Size(), 1u);
  BOOST_TEST(std::string{events[0]["data"]["to"].GetString()} == "DELETING");
}

BOOST_AUTO_TEST_CASE(an_idempotency_key_replays_from_postgresql_and_refuses_another_body) {
  auto body = R"({"name": "once", "template": "web-app-stack", "cloud_region": "RegionOne"})";
  header_list key{{"Idempotency-Key", "integration-1"}};
  auto first = post(body, key);
  BOOST_REQUIRE_EQUAL(first.result_int(), 202u);
  auto again = post(body, key);
  BOOST_TEST(again.result_int() == 202u);
  BOOST_TEST(again[bhttp::field::location] == first[bhttp::field::location]);
  BOOST_TEST(again.body() == first.body());
  BOOST_TEST(again["Idempotent-Replayed"] == "true");
  auto other = post(R"({"name": "twice", "template": "web-app-stack",
                        "cloud_region": "RegionOne"})",
                    key);
  BOOST_TEST(other.result_int() == 409u);
  BOOST_TEST(engine.started().size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_event_stream_delivers_live_events_and_ends_at_deleted) {
  auto created = post(R"({"name": "streamed", "template": "web-app-stack",
                          "cloud_region": "RegionOne"})");
  std::string id = parse(created.body())["id"].GetString();
  move_to(id, orch::deployment_status::in_progress);
  orch::testing::raw_socket sock{"127.0.0.1", srv->port()};
  sock.send("GET /deployments/" + id
            + "/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nX-API-Key: " + write_key
            + "\r\n\r\n");
  sock.read_until("id: 1\nevent: status_changed\n");
  move_to(id, orch::deployment_status::deleting);
  sock.read_until("id: 2\n");
  move_to(id, orch::deployment_status::deleted);
  auto text = sock.read_until_close();
  BOOST_TEST(text.find("HTTP/1.1 200") == 0u);
  BOOST_TEST(text.find("text/event-stream") != std::string::npos);
  BOOST_TEST(text.find("\"to\":\"DELETED\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_dry_run_plans_from_postgresql_and_if_match_guards_the_patch) {
  auto created = post(R"({"name": "patched", "template": "web-app-stack",
                          "cloud_region": "RegionOne"})");
  std::string id = parse(created.body())["id"].GetString();
  move_to(id, orch::deployment_status::completed);
  auto url = "/deployments/" + id;
  auto read = client->get(url, keyed());
  BOOST_TEST(read[bhttp::field::etag] == "\"1\"");

  auto dry = client->request(bhttp::verb::patch, url + "?dry_run=true",
                             R"({"parameters": {"web_count": 3}})", keyed());
  BOOST_REQUIRE_EQUAL(dry.result_int(), 200u);
  BOOST_TEST(dry[bhttp::field::etag] == "\"1\"");
  auto plan = parse(dry.body());
  BOOST_TEST(plan["version"].GetInt() == 1);
  // Nothing is recorded, so every VM of the new count is planned, past the highest index.
  BOOST_REQUIRE_EQUAL(plan["changes"].Size(), 3u);
  BOOST_TEST(std::string{plan["changes"][2]["name"].GetString()} == "patched-web-3");
  BOOST_TEST(std::string{plan["changes"][2]["action"].GetString()} == "create");
  BOOST_TEST(std::string{plan["changes"][2]["resource"].GetString()} == "vm");
  BOOST_TEST(engine.changes().empty());
  BOOST_TEST(
    parse(client->get(url, keyed()).body())["template"]["vm_config"]["web"]["count"].GetInt() == 2);

  auto stale = client->request(bhttp::verb::patch, url, R"({"parameters": {"web_count": 3}})",
                               keyed({{"If-Match", "\"0\""}}));
  BOOST_TEST(stale.result_int() == 412u);
  auto applied = client->request(bhttp::verb::patch, url, R"({"parameters": {"web_count": 3}})",
                                 keyed({{"If-Match", "\"1\""}}));
  BOOST_REQUIRE_EQUAL(applied.result_int(), 202u);
  BOOST_TEST(std::string{parse(applied.body())["status"].GetString()} == "UPDATING");
  BOOST_TEST(applied[bhttp::field::etag] == "\"4\"");
  // The row holds the new desired template and parameters.
  auto after = parse(client->get(url, keyed()).body());
  BOOST_TEST(after["template"]["vm_config"]["web"]["count"].GetInt() == 3);
  BOOST_TEST(after["parameters"]["web_count"].GetInt() == 3);
  auto busy
    = client->request(bhttp::verb::patch, url, R"({"parameters": {"web_count": 1}})", keyed());
  BOOST_TEST(busy.result_int() == 409u);
}

BOOST_AUTO_TEST_CASE(flavor_and_image_patches_plan_resizes_and_rebuilds_and_are_accepted) {
  auto created = post(R"({"name": "resized", "template": "web-app-stack",
                          "cloud_region": "RegionOne"})");
  std::string id = parse(created.body())["id"].GetString();
  // The web VMs as a deploy records them: only recorded VMs are resized or rebuilt.
  auto uid = *orch::uuid::parse(id);
  auto rec = deployments->get(uid);
  BOOST_REQUIRE(rec);
  orch::persistence::event_batch batch;
  for (int n = 1; n <= 2; ++n) {
    orch::resource_created vm;
    vm.kind = orch::resource_kind::server;
    vm.logical_name = "vm:web-" + std::to_string(n);
    vm.cloud_name = "resized-web-" + std::to_string(n);
    vm.id = "server-" + std::to_string(n);
    vm.group = "web";
    vm.index = n;
    vm.flavor = "m1.small";
    vm.image = "ubuntu-22.04";
    vm.status = "ACTIVE";
    batch.events.push_back({0, rec->updated_at, vm});
    orch::apply(*rec, batch.events.back());
  }
  batch.state = *rec;
  BOOST_REQUIRE(deployments->append_events(uid, rec->epoch, batch));
  move_to(id, orch::deployment_status::completed);
  auto url = "/deployments/" + id;
  auto body = R"({"parameters": {"web_flavor": "m1.medium", "web_image": "cirros"}})";

  auto dry = client->request(bhttp::verb::patch, url + "?dry_run=true", body, keyed());
  BOOST_REQUIRE_EQUAL(dry.result_int(), 200u);
  auto plan = parse(dry.body());
  std::multiset<std::string> changes;
  // The app and db VMs are not recorded, so their creates are planned too.
  for (const auto& c : plan["changes"].GetArray())
    if (c["from"].IsString())
      changes.insert(std::string{c["action"].GetString()} + " " + c["name"].GetString() + " "
                     + c["from"].GetString() + " -> " + c["to"].GetString());
  BOOST_TEST(changes
             == (std::multiset<std::string>{"resize resized-web-1 m1.small -> m1.medium",
                                            "resize resized-web-2 m1.small -> m1.medium",
                                            "rebuild resized-web-1 ubuntu-22.04 -> cirros",
                                            "rebuild resized-web-2 ubuntu-22.04 -> cirros"}));
  BOOST_TEST(engine.changes().empty());

  auto applied = client->request(bhttp::verb::patch, url, body, keyed());
  BOOST_REQUIRE_EQUAL(applied.result_int(), 202u);
  BOOST_TEST(std::string{parse(applied.body())["status"].GetString()} == "UPDATING");
  BOOST_REQUIRE_EQUAL(engine.changes().size(), 1u);
  auto change = engine.changes()[0];
  const auto& web = change.spec.vm_config[0];
  BOOST_TEST(web.first == "web");
  BOOST_TEST(web.second.flavor == "m1.medium");
  BOOST_TEST(web.second.image == "cirros");
}

BOOST_AUTO_TEST_CASE(bad_updates_and_scales_name_the_field) {
  auto created = post(R"({"name": "checked", "template": "web-app-stack",
                          "cloud_region": "RegionOne"})");
  std::string id = parse(created.body())["id"].GetString();
  move_to(id, orch::deployment_status::completed);
  auto scale = [&](const std::string& body) {
    return client->request(bhttp::verb::post, "/deployments/" + id + "/scale", body, keyed());
  };
  auto field_of = [&](const orch::testing::http_response& res) {
    BOOST_REQUIRE_EQUAL(res.result_int(), 422u);
    return std::string{parse(res.body())["errors"][0]["field"].GetString()};
  };
  BOOST_TEST(field_of(scale(R"({"target_count": 2, "vm_type": "db"})")) == "vm_type");
  BOOST_TEST(field_of(scale(R"({"target_count": 2.5, "vm_type": "web"})")) == "target_count");
  BOOST_TEST(field_of(scale(R"({"target_count": "3", "vm_type": "web"})")) == "target_count");
  BOOST_TEST(field_of(scale(R"({"target_count": -1, "vm_type": "web"})")) == "target_count");
  BOOST_TEST(field_of(scale(R"({"target_count": 5000, "vm_type": "web"})")) == "target_count");
  BOOST_TEST(field_of(scale(R"({"vm_type": "web"})")) == "target_count");
  auto patch = client->request(bhttp::verb::patch, "/deployments/" + id,
                               R"({"parameters": {"web_flavor": ""}})", keyed());
  BOOST_TEST(field_of(patch) == "parameters.web_flavor");
  auto unknown = client->request(bhttp::verb::patch, "/deployments/" + id,
                                 R"({"parameters": {"cache_count": 1}})", keyed());
  BOOST_TEST(field_of(unknown) == "parameters.cache_count");
  BOOST_TEST(engine.changes().empty());

  auto ok = scale(R"({"target_count": 4, "vm_type": "web"})");
  BOOST_REQUIRE_EQUAL(ok.result_int(), 202u);
  auto doc = parse(ok.body());
  BOOST_TEST(std::string{doc["deployment_id"].GetString()} == id);
  BOOST_TEST(std::string{doc["status"].GetString()} == "SCALING");
  BOOST_REQUIRE_EQUAL(engine.changes().size(), 1u);
  BOOST_TEST(engine.changes()[0].spec.vm_config[0].second.count == 4);
  auto again = scale(R"({"target_count": 1, "vm_type": "web"})");
  BOOST_TEST(again.result_int() == 409u);
}

BOOST_AUTO_TEST_SUITE_END()
