#include "orch/http/deployment_routes.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include "fake_deployment_engine.hpp"
#include "orch/errc.hpp"
#include "orch/http/problem.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"
#include "orch/persistence/memory_template_repository.hpp"
#include "orch/schemas/template_json.hpp"
#include "orch/testing/printers.hpp"

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using orch::http::request;
using orch::http::response;

namespace {

constexpr auto read_key = "read-key-0123456789";
constexpr auto write_key = "write-key-0123456789";
constexpr auto other_write_key = "other-write-key-0123456789";
constexpr auto patience = 5s;

using header_list = std::vector<std::pair<std::string, std::string>>;

constexpr auto template_body = R"({"name": "web-app-stack", "description": "web",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 2},
                "db": {"flavor": "m1.large", "image": "ubuntu-22.04", "count": 1}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"web": "10.0.1.0/24"},
                     "router": true}})";

std::string create_body(const std::string& name, const std::string& extra = {}) {
  return R"({"name": ")" + name + R"(", "template": "web-app-stack", "cloud_region": "RegionOne")"
         + extra + "}";
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "not JSON: " << text);
  return doc;
}

std::string field_of_first_error(const response& res) {
  auto doc = parse(res.body());
  if (!doc.HasMember("errors") || doc["errors"].Empty()) return {};
  return doc["errors"][0]["field"].GetString();
}

// The body of a streamed response as a test reads it, and the hooks a server would run.
class test_stream : public orch::http::stream_writer {
public:
  bool write(std::string data) override {
    std::lock_guard guard{mtx_};
    if (!open_) return false;
    text_ += data;
    cv_.notify_all();
    return true;
  }

  void close() override {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard guard{mtx_};
      if (!open_) return;
      open_ = false;
      callbacks.swap(on_close_);
    }
    cv_.notify_all();
    for (auto& f : callbacks) f();
  }

  bool is_open() const noexcept override {
    std::lock_guard guard{mtx_};
    return open_;
  }

  void on_close(std::function<void()> f) override {
    {
      std::lock_guard guard{mtx_};
      if (open_) return on_close_.push_back(std::move(f));
    }
    f();
  }

  // Waits until the body contains `needle`; false after `patience`.
  bool wait_for(const std::string& needle) {
    std::unique_lock lock{mtx_};
    return cv_.wait_for(lock, patience, [&] { return text_.find(needle) != std::string::npos; });
  }

  // Waits until the stream is closed; false after `patience`.
  bool wait_closed() {
    std::unique_lock lock{mtx_};
    return cv_.wait_for(lock, patience, [&] { return !open_; });
  }

  std::string text() const {
    std::lock_guard guard{mtx_};
    return text_;
  }

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::string text_;
  bool open_ = true;
  std::vector<std::function<void()>> on_close_;
};

// Receives one exchange's answer from whatever thread delivers it.
class test_sink : public orch::http::response_sink {
public:
  void send(std::uint64_t, response&& res) override {
    std::lock_guard guard{mtx_};
    if (!res_ && !stream_) res_ = std::move(res);
    cv_.notify_all();
  }

  std::shared_ptr<orch::http::stream_writer> open_stream(std::uint64_t, response&& head) override {
    std::lock_guard guard{mtx_};
    head_ = std::move(head);
    stream_ = std::make_shared<test_stream>();
    cv_.notify_all();
    return stream_;
  }

  // Waits for a complete response or a stream head.
  bool wait() {
    std::unique_lock lock{mtx_};
    return cv_.wait_for(lock, patience, [&] { return res_.has_value() || stream_ != nullptr; });
  }

  std::optional<response> res_;
  std::optional<response> head_;
  std::shared_ptr<test_stream> stream_;

private:
  std::mutex mtx_;
  std::condition_variable cv_;
};

// Counts event reads, to see when a stream stops polling.
class counting_repository : public orch::persistence::memory_deployment_repository {
public:
  caf::expected<std::vector<orch::deployment_event>> events(const orch::uuid& id, int64_t after_seq,
                                                            int limit) override {
    ++event_reads;
    return memory_deployment_repository::events(id, after_seq, limit);
  }

  std::atomic<int> event_reads{0};
};

struct fixture {
  fixture() : engine(deployments), pool(2) {
    serve({});
    auto spec = orch::schemas::parse_template(template_body);
    stored_template = *templates.create(std::get<orch::template_spec>(spec));
  }

  // Handler work still queued may subscribe to the feed: let it finish while the feed is there.
  ~fixture() { pool.stop(); }

  // (Re)builds the gateway with `cfg` (regions filled in) and an event feed with `feed_cfg`
  // (a fast safety poll filled in when left default: no database notifies it here).
  void serve(orch::http::deployment_routes_config cfg,
             orch::http::event_feed_config feed_cfg = {}) {
    gw.reset();
    feed.reset();
    cfg.regions = {"RegionOne", "RegionTwo"};
    if (feed_cfg.poll_interval == 2000ms) feed_cfg.poll_interval = 10ms;
    orch::http::gateway_config gw_cfg;
    gw_cfg.keys = {{read_key, orch::api_scope::read},
                   {write_key, orch::api_scope::write},
                   {other_write_key, orch::api_scope::write}};
    gw_cfg.rate_limit_per_minute = 10'000;
    registry = std::make_unique<prometheus::Registry>();
    feed_metrics = std::make_unique<orch::http::event_feed_metrics>(*registry);
    feed = std::make_unique<orch::http::event_feed>(
      feed_cfg, deployments, [this](auto work) { pool.run(std::move(work)); }, *feed_metrics);
    feed->start_ticker();
    gw = std::make_unique<orch::http::gateway>(gw_cfg, *registry);
    orch::http::add_deployment_routes(*gw, {deployments, templates, engine, pool, *feed}, cfg);
  }

  std::shared_ptr<test_sink> exchange(bhttp::verb method, const std::string& target,
                                      header_list headers, std::string body) {
    request req{method, target, 11};
    req.set("X-API-Key", write_key);
    if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
    for (auto& [name, value] : headers) req.set(name, value);
    req.body() = std::move(body);
    req.prepare_payload();
    auto sink = std::make_shared<test_sink>();
    (*gw)(std::move(req), orch::http::request_context{"127.0.0.1", {}, {}, false},
          orch::http::responder{sink, 1});
    BOOST_REQUIRE_MESSAGE(sink->wait(), "no answer to " << target);
    return sink;
  }

  response call(bhttp::verb method, const std::string& target, header_list headers = {},
                std::string body = {}) {
    auto sink = exchange(method, target, std::move(headers), std::move(body));
    BOOST_REQUIRE_MESSAGE(sink->res_.has_value(), target << " opened a stream");
    return std::move(*sink->res_);
  }

  response get(const std::string& target, header_list headers = {}) {
    return call(bhttp::verb::get, target, std::move(headers));
  }

  response post(const std::string& body, header_list headers = {}) {
    return call(bhttp::verb::post, "/deployments", std::move(headers), body);
  }

  // Opens `GET <target>` as an event stream.
  std::shared_ptr<test_sink> open_stream(const std::string& target, header_list headers = {}) {
    headers.emplace_back("Accept", "text/event-stream");
    auto sink = exchange(bhttp::verb::get, target, std::move(headers), {});
    BOOST_REQUIRE_MESSAGE(sink->stream_ != nullptr, "no stream: " << sink->res_->body());
    return sink;
  }

  // Creates a deployment through the API and returns its id.
  std::string create(const std::string& name) {
    auto res = post(create_body(name));
    BOOST_REQUIRE_EQUAL(res.result_int(), 202u);
    return parse(res.body())["id"].GetString();
  }

  // Appends a status change as an engine would, with the record's epoch.
  void move_to(const std::string& id, orch::deployment_status to) {
    auto uid = *orch::uuid::parse(id);
    auto rec = deployments.get(uid);
    BOOST_REQUIRE(rec);
    orch::persistence::event_batch batch;
    batch.events.push_back({0, rec->updated_at, orch::status_changed{rec->status, to}});
    rec->status = to;
    if (to == orch::deployment_status::deleted) rec->deleted_at = rec->updated_at;
    batch.state = *rec;
    BOOST_REQUIRE(deployments.append_events(uid, rec->epoch, batch));
  }

  orch::persistence::memory_template_repository templates;
  counting_repository deployments;
  orch::testing::fake_deployment_engine engine;
  orch::http::blocking_pool pool;
  std::unique_ptr<prometheus::Registry> registry;
  std::unique_ptr<orch::http::event_feed_metrics> feed_metrics;
  std::unique_ptr<orch::http::event_feed> feed;
  std::unique_ptr<orch::http::gateway> gw;
  orch::stored_template stored_template;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(deployment_routes, fixture)

// -- create -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(create_answers_202_with_location_and_starts_the_engine) {
  auto res = post(create_body("my-app", R"(, "parameters": {"web_count": 3})"));
  BOOST_TEST(res.result_int() == 202u);
  auto doc = parse(res.body());
  std::string id = doc["id"].GetString();
  BOOST_TEST(std::string{doc["name"].GetString()} == "my-app");
  BOOST_TEST(std::string{doc["status"].GetString()} == "PENDING");
  BOOST_TEST(res[bhttp::field::location] == "/deployments/" + id);
  auto started = engine.started();
  BOOST_REQUIRE_EQUAL(started.size(), 1u);
  BOOST_TEST(to_string(started[0]) == id);
  auto stored = deployments.get(started[0]);
  BOOST_REQUIRE(stored);
  BOOST_TEST(stored->spec.vm_config.size() == 2u);
  BOOST_CHECK(stored->template_id == std::optional<orch::uuid>{stored_template.id});
  BOOST_TEST(stored->cloud_region == "RegionOne");
}

BOOST_AUTO_TEST_CASE(create_applies_parameters_to_the_resolved_copy) {
  auto id = create_body("sized", R"(, "parameters": {"web_count": 5, "db_flavor": "m1.xl"})");
  auto res = post(id);
  BOOST_REQUIRE_EQUAL(res.result_int(), 202u);
  auto doc = parse(get(res[bhttp::field::location].to_string()).body());
  BOOST_TEST(doc["template"]["vm_config"]["web"]["count"].GetInt() == 5);
  BOOST_TEST(std::string{doc["template"]["vm_config"]["db"]["flavor"].GetString()} == "m1.xl");
  BOOST_TEST(doc["parameters"]["web_count"].GetInt() == 5);
}

BOOST_AUTO_TEST_CASE(create_finds_a_stored_template_by_id_too) {
  auto res = post(R"({"name": "by-id", "template": ")" + to_string(stored_template.id)
                  + R"(", "cloud_region": "RegionTwo"})");
  BOOST_TEST(res.result_int() == 202u);
}

BOOST_AUTO_TEST_CASE(create_accepts_an_inline_template) {
  std::string body = R"({"name": "inline", "cloud_region": "RegionOne", "template": )"
                     + std::string{template_body} + "}";
  auto res = post(body);
  BOOST_REQUIRE_EQUAL(res.result_int(), 202u);
  auto id = *orch::uuid::parse(parse(res.body())["id"].GetString());
  BOOST_TEST(!deployments.get(id)->template_id.has_value());
}

BOOST_AUTO_TEST_CASE(create_refuses_a_body_that_is_not_a_json_object_with_400) {
  BOOST_TEST(post("{not json").result_int() == 400u);
  BOOST_TEST(post("[1, 2]").result_int() == 400u);
  BOOST_TEST(engine.started().empty());
}

BOOST_AUTO_TEST_CASE(create_reports_every_schema_error_with_422) {
  auto res = post(R"({"name": "Bad Name", "template": 7, "surprise": 1})");
  BOOST_TEST(res.result_int() == 422u);
  BOOST_TEST(res[bhttp::field::content_type] == "application/problem+json");
  auto doc = parse(res.body());
  BOOST_TEST(doc["errors"].Size() >= 4u); // name, template, surprise, cloud_region missing
}

BOOST_AUTO_TEST_CASE(create_with_an_unknown_template_is_422_on_field_template) {
  auto res = post(R"({"name": "x", "template": "no-such", "cloud_region": "RegionOne"})");
  BOOST_TEST(res.result_int() == 422u);
  BOOST_TEST(field_of_first_error(res) == "template");
}

BOOST_AUTO_TEST_CASE(create_with_an_unknown_parameter_is_422) {
  auto res = post(create_body("x", R"(, "parameters": {"cache_count": 1})"));
  BOOST_TEST(res.result_int() == 422u);
  BOOST_TEST(field_of_first_error(res) == "parameters.cache_count");
}

BOOST_AUTO_TEST_CASE(create_in_an_unconfigured_region_is_422) {
  auto res = post(R"({"name": "x", "template": "web-app-stack", "cloud_region": "Mars"})");
  BOOST_TEST(res.result_int() == 422u);
  BOOST_TEST(field_of_first_error(res) == "cloud_region");
  BOOST_TEST(engine.started().empty());
}

BOOST_AUTO_TEST_CASE(create_with_a_taken_name_is_409_until_the_owner_is_deleted) {
  auto id = create("taken");
  BOOST_TEST(post(create_body("taken")).result_int() == 409u);
  move_to(id, orch::deployment_status::deleted);
  BOOST_TEST(post(create_body("taken")).result_int() == 202u);
}

BOOST_AUTO_TEST_CASE(create_with_a_read_key_is_403) {
  auto res = post(create_body("x"), {{"X-API-Key", read_key}});
  BOOST_TEST(res.result_int() == 403u);
}

BOOST_AUTO_TEST_CASE(create_while_the_database_is_down_is_503_with_retry_after) {
  deployments.set_failure(make_error(orch::errc::store_unavailable, "down"));
  auto res = post(create_body("x"));
  BOOST_TEST(res.result_int() == 503u);
  BOOST_TEST(!res[bhttp::field::retry_after].empty());
  BOOST_TEST(engine.started().empty());
}

// -- idempotency ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_replayed_idempotency_key_returns_the_first_answer_and_creates_nothing) {
  header_list key{{"Idempotency-Key", "7d1c-0001"}};
  auto first = post(create_body("once"), key);
  BOOST_REQUIRE_EQUAL(first.result_int(), 202u);
  auto again = post(create_body("once"), key);
  BOOST_TEST(again.result_int() == 202u);
  BOOST_TEST(again.body() == first.body());
  BOOST_TEST(again[bhttp::field::location] == first[bhttp::field::location]);
  BOOST_TEST(again["Idempotent-Replayed"] == "true");
  BOOST_TEST(engine.started().size() == 1u);
  orch::persistence::deployment_filter all;
  BOOST_TEST(deployments.list(all)->total == 1);
}

BOOST_AUTO_TEST_CASE(an_idempotency_key_reused_with_another_body_is_409) {
  header_list key{{"Idempotency-Key", "7d1c-0002"}};
  BOOST_REQUIRE_EQUAL(post(create_body("one"), key).result_int(), 202u);
  BOOST_TEST(post(create_body("two"), key).result_int() == 409u);
  BOOST_TEST(engine.started().size() == 1u);
}

BOOST_AUTO_TEST_CASE(idempotency_keys_of_different_callers_do_not_collide) {
  BOOST_REQUIRE_EQUAL(post(create_body("mine"), {{"Idempotency-Key", "k"}}).result_int(), 202u);
  auto theirs
    = post(create_body("theirs"), {{"Idempotency-Key", "k"}, {"X-API-Key", other_write_key}});
  BOOST_TEST(theirs.result_int() == 202u);
  BOOST_TEST(engine.started().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_malformed_idempotency_key_is_400) {
  BOOST_TEST(post(create_body("a"), {{"Idempotency-Key", std::string(256, 'k')}}).result_int()
             == 400u);
  BOOST_TEST(post(create_body("a"), {{"Idempotency-Key", "tab\there"}}).result_int() == 400u);
  BOOST_TEST(post(create_body("a"), {{"Idempotency-Key", ""}}).result_int() == 400u);
  BOOST_TEST(post(create_body("a"), {{"Idempotency-Key", std::string(255, 'k')}}).result_int()
             == 202u);
}

// -- read -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(get_returns_the_deployment_as_api_md_shows_it) {
  auto id = create("shown");
  auto res = get("/deployments/" + id, {{"X-API-Key", read_key}});
  BOOST_TEST(res.result_int() == 200u);
  auto doc = parse(res.body());
  BOOST_TEST(std::string{doc["id"].GetString()} == id);
  BOOST_TEST(std::string{doc["status"].GetString()} == "PENDING");
  for (auto member : {"template", "parameters", "cloud_region", "resources", "operation",
                      "created_at", "updated_at", "deleted_at"})
    BOOST_TEST(doc.HasMember(member), member);
}

BOOST_AUTO_TEST_CASE(get_of_an_unknown_or_malformed_id_is_404) {
  BOOST_TEST(get("/deployments/" + to_string(orch::uuid::random())).result_int() == 404u);
  BOOST_TEST(get("/deployments/not-a-uuid").result_int() == 404u);
}

BOOST_AUTO_TEST_CASE(list_is_newest_first_with_total_limit_and_offset) {
  auto a = create("alpha");
  auto b = create("beta");
  auto c = create("gamma");
  auto doc = parse(get("/deployments?limit=2&offset=1").body());
  BOOST_TEST(doc["total"].GetInt() == 3);
  BOOST_TEST(doc["limit"].GetInt() == 2);
  BOOST_TEST(doc["offset"].GetInt() == 1);
  BOOST_REQUIRE_EQUAL(doc["items"].Size(), 2u);
  // Same created_at is possible at microsecond resolution; the id then breaks the tie, so
  // compare against the repository's own order.
  orch::persistence::deployment_filter all;
  auto expected = deployments.list(all)->items;
  BOOST_TEST(std::string{doc["items"][0]["id"].GetString()} == to_string(expected[1].id));
  BOOST_TEST(std::string{doc["items"][1]["id"].GetString()} == to_string(expected[2].id));
  auto defaults = parse(get("/deployments").body());
  BOOST_TEST(defaults["limit"].GetInt() == 50);
  BOOST_TEST(defaults["items"].Size() == 3u);
  BOOST_TEST(!defaults.HasMember("next"));
  (void)a, (void)b, (void)c;
}

BOOST_AUTO_TEST_CASE(list_filters_by_status_and_name_prefix) {
  auto web1 = create("web-1");
  create("web-2");
  create("db-1");
  move_to(web1, orch::deployment_status::in_progress);
  auto by_name = parse(get("/deployments?name=web-").body());
  BOOST_TEST(by_name["total"].GetInt() == 2);
  auto by_status = parse(get("/deployments?status=IN_PROGRESS").body());
  BOOST_REQUIRE_EQUAL(by_status["items"].Size(), 1u);
  BOOST_TEST(std::string{by_status["items"][0]["id"].GetString()} == web1);
}

BOOST_AUTO_TEST_CASE(list_shows_deleted_deployments_only_when_asked) {
  auto gone = create("gone");
  create("kept");
  move_to(gone, orch::deployment_status::deleted);
  BOOST_TEST(parse(get("/deployments").body())["total"].GetInt() == 1);
  BOOST_TEST(parse(get("/deployments?include_deleted=false").body())["total"].GetInt() == 1);
  BOOST_TEST(parse(get("/deployments?include_deleted=true").body())["total"].GetInt() == 2);
}

BOOST_AUTO_TEST_CASE(list_refuses_bad_query_parameters_with_422) {
  for (auto query : {"status=SLEEPING", "limit=0", "limit=501", "limit=x", "offset=-1",
                     "include_deleted=yes", "after=nope"}) {
    auto res = get(std::string{"/deployments?"} + query);
    BOOST_TEST(res.result_int() == 422u, query);
  }
  auto res = get("/deployments?status=SLEEPING&limit=0");
  BOOST_TEST(parse(res.body())["errors"].Size() == 2u);
}

BOOST_AUTO_TEST_CASE(list_pages_by_keyset_through_the_next_link) {
  for (int i = 0; i < 5; ++i) create("keyset-" + std::to_string(i));
  create("other");
  std::vector<std::string> seen;
  std::string target = "/deployments?name=keyset-&limit=2";
  for (int pages = 0; pages < 5; ++pages) {
    auto doc = parse(get(target).body());
    for (auto& item : doc["items"].GetArray()) seen.emplace_back(item["id"].GetString());
    if (!doc.HasMember("next")) break;
    target = doc["next"].GetString();
    BOOST_TEST(target.find("name=keyset-") != std::string::npos);
  }
  orch::persistence::deployment_filter filter;
  filter.name_prefix = "keyset-";
  std::vector<std::string> expected;
  auto listed = deployments.list(filter); // a named result: the range must outlive the loop
  BOOST_TEST_REQUIRE(static_cast<bool>(listed));
  for (auto& rec : listed->items) expected.push_back(to_string(rec.id));
  BOOST_TEST(seen == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(list_after_an_unknown_id_is_422) {
  auto res = get("/deployments?after=" + to_string(orch::uuid::random()));
  BOOST_TEST(res.result_int() == 422u);
  BOOST_TEST(field_of_first_error(res) == "after");
}

BOOST_AUTO_TEST_CASE(list_while_the_database_is_down_is_503) {
  deployments.set_failure(make_error(orch::errc::store_unavailable, "down"));
  auto res = get("/deployments");
  BOOST_TEST(res.result_int() == 503u);
  BOOST_TEST(!res[bhttp::field::retry_after].empty());
}

// -- delete -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(delete_asks_the_engine_and_answers_202_deleting) {
  auto id = create("doomed");
  auto res = call(bhttp::verb::delete_, "/deployments/" + id);
  BOOST_TEST(res.result_int() == 202u);
  auto doc = parse(res.body());
  BOOST_TEST(std::string{doc["id"].GetString()} == id);
  BOOST_TEST(std::string{doc["status"].GetString()} == "DELETING");
  BOOST_REQUIRE_EQUAL(engine.removed().size(), 1u);
  BOOST_TEST(to_string(engine.removed()[0]) == id);
}

BOOST_AUTO_TEST_CASE(delete_of_a_deleted_unknown_or_malformed_deployment_is_404) {
  auto id = create("already-gone");
  move_to(id, orch::deployment_status::deleted);
  BOOST_TEST(call(bhttp::verb::delete_, "/deployments/" + id).result_int() == 404u);
  BOOST_TEST(
    call(bhttp::verb::delete_, "/deployments/" + to_string(orch::uuid::random())).result_int()
    == 404u);
  BOOST_TEST(call(bhttp::verb::delete_, "/deployments/12").result_int() == 404u);
  BOOST_TEST(engine.removed().empty());
}

BOOST_AUTO_TEST_CASE(delete_reports_the_engines_error) {
  auto id = create("busy");
  engine.fail_with(make_error(orch::errc::unavailable, "shutting down"));
  auto res = call(bhttp::verb::delete_, "/deployments/" + id);
  BOOST_TEST(res.result_int() == 503u);
  engine.fail_with(make_error(orch::errc::conflict, "busy"));
  BOOST_TEST(call(bhttp::verb::delete_, "/deployments/" + id).result_int() == 409u);
}

// -- events -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(events_are_listed_oldest_first_after_a_seq) {
  auto id = create("history");
  move_to(id, orch::deployment_status::in_progress);
  move_to(id, orch::deployment_status::completed);
  move_to(id, orch::deployment_status::deleting);
  auto all = parse(get("/deployments/" + id + "/events").body());
  BOOST_REQUIRE(all.IsArray());
  BOOST_REQUIRE_EQUAL(all.Size(), 3u);
  for (rapidjson::SizeType i = 0; i < all.Size(); ++i) {
    BOOST_TEST(all[i]["seq"].GetInt() == static_cast<int>(i) + 1);
    BOOST_TEST(std::string{all[i]["type"].GetString()} == "status_changed");
  }
  auto tail = parse(get("/deployments/" + id + "/events?after=1&limit=1").body());
  BOOST_REQUIRE_EQUAL(tail.Size(), 1u);
  BOOST_TEST(tail[0]["seq"].GetInt() == 2);
}

BOOST_AUTO_TEST_CASE(events_of_an_unknown_deployment_are_404_and_bad_paging_is_422) {
  BOOST_TEST(get("/deployments/" + to_string(orch::uuid::random()) + "/events").result_int()
             == 404u);
  BOOST_TEST(get("/deployments/x/events").result_int() == 404u);
  auto id = create("paged");
  BOOST_TEST(get("/deployments/" + id + "/events?after=-1").result_int() == 422u);
  BOOST_TEST(get("/deployments/" + id + "/events?limit=0").result_int() == 422u);
}

BOOST_AUTO_TEST_CASE(event_stream_sends_the_backlog_then_live_events) {
  auto id = create("live");
  move_to(id, orch::deployment_status::in_progress);
  auto sink = open_stream("/deployments/" + id + "/events");
  BOOST_TEST(sink->head_->result_int() == 200u);
  BOOST_TEST((*sink->head_)[bhttp::field::content_type] == "text/event-stream");
  auto& stream = *sink->stream_;
  BOOST_REQUIRE(stream.wait_for("id: 1\nevent: status_changed\ndata: {"));
  move_to(id, orch::deployment_status::completed);
  BOOST_REQUIRE(stream.wait_for("id: 2\n"));
  BOOST_TEST(stream.text().find("\"to\":\"COMPLETED\"") != std::string::npos);
  BOOST_TEST(stream.is_open());
}

BOOST_AUTO_TEST_CASE(event_stream_resumes_after_last_event_id) {
  auto id = create("resumed");
  move_to(id, orch::deployment_status::in_progress);
  move_to(id, orch::deployment_status::completed);
  move_to(id, orch::deployment_status::updating);
  auto sink = open_stream("/deployments/" + id + "/events", {{"Last-Event-ID", "2"}});
  BOOST_REQUIRE(sink->stream_->wait_for("id: 3\n"));
  auto text = sink->stream_->text();
  BOOST_TEST(text.find("id: 1\n") == std::string::npos);
  BOOST_TEST(text.find("id: 2\n") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(event_stream_ends_after_the_deployment_is_deleted) {
  auto id = create("ending");
  auto sink = open_stream("/deployments/" + id + "/events");
  move_to(id, orch::deployment_status::deleting);
  move_to(id, orch::deployment_status::deleted);
  BOOST_REQUIRE(sink->stream_->wait_closed());
  auto text = sink->stream_->text();
  BOOST_TEST(text.find("id: 2\n") != std::string::npos);
  BOOST_TEST(text.find("\"to\":\"DELETED\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(event_stream_of_a_deleted_deployment_sends_the_trail_and_ends) {
  auto id = create("long-gone");
  move_to(id, orch::deployment_status::deleted);
  auto sink = open_stream("/deployments/" + id + "/events");
  BOOST_REQUIRE(sink->stream_->wait_closed());
  BOOST_TEST(sink->stream_->text().find("id: 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(event_stream_of_an_unknown_deployment_is_404) {
  auto target = "/deployments/" + to_string(orch::uuid::random()) + "/events";
  auto sink = exchange(bhttp::verb::get, target, {{"Accept", "text/event-stream"}}, {});
  BOOST_REQUIRE(sink->res_.has_value());
  BOOST_TEST(sink->res_->result_int() == 404u);
}

BOOST_AUTO_TEST_CASE(event_stream_sends_a_heartbeat_when_idle) {
  orch::http::event_feed_config feed_cfg;
  feed_cfg.heartbeat_interval = 30ms;
  serve({}, feed_cfg);
  auto id = create("quiet");
  auto sink = open_stream("/deployments/" + id + "/events");
  BOOST_TEST(sink->stream_->wait_for(": keep-alive\n"));
}

BOOST_AUTO_TEST_CASE(event_streams_over_the_cap_get_503_with_retry_after) {
  orch::http::event_feed_config feed_cfg;
  feed_cfg.max_subscribers = 1;
  serve({}, feed_cfg);
  auto id = create("popular");
  auto first = open_stream("/deployments/" + id + "/events");
  auto refused = exchange(bhttp::verb::get, "/deployments/" + id + "/events",
                          {{"Accept", "text/event-stream"}, {"X-Request-ID", "req-over-cap"}}, {});
  BOOST_REQUIRE(refused->res_.has_value());
  auto& res = *refused->res_;
  BOOST_TEST(res.result_int() == 503u);
  BOOST_TEST(res[bhttp::field::content_type] == "application/problem+json");
  BOOST_TEST(std::stoi(std::string{res[bhttp::field::retry_after]}) >= 1);
  auto body = parse(res.body());
  BOOST_TEST(std::string{body["request_id"].GetString()} == "req-over-cap");
  BOOST_TEST(std::string{body["detail"].GetString()}.find("event streams") != std::string::npos);
  // The JSON history is no stream: it is still served.
  BOOST_TEST(get("/deployments/" + id + "/events").result_int() == 200u);
  // Once the first stream is gone, its place is free again.
  first->stream_->close();
  auto again = open_stream("/deployments/" + id + "/events");
  BOOST_TEST(again->head_->result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(event_stream_stops_polling_once_the_client_is_gone) {
  auto id = create("abandoned");
  auto sink = open_stream("/deployments/" + id + "/events");
  // Polling runs: a later event arrives.
  move_to(id, orch::deployment_status::in_progress);
  BOOST_REQUIRE(sink->stream_->wait_for("id: 1\n"));
  sink->stream_->close();
  auto reads_at_close = deployments.event_reads.load();
  // An absence cannot be awaited: give a running stream ample time (20 poll intervals) to poll.
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(deployments.event_reads.load() <= reads_at_close + 1);
}

BOOST_AUTO_TEST_SUITE_END()
