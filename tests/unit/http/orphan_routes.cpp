#include "orch/http/orphan_routes.hpp"

#include <memory>
#include <optional>
#include <string>

#include <boost/test/unit_test.hpp>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include "fake_orphan_finder.hpp"
#include "orch/errc.hpp"

namespace bhttp = boost::beast::http;
using orch::actors::orphan;
using orch::actors::orphan_kind;
using orch::actors::orphan_reason;
using orch::http::request;
using orch::http::response;

namespace {

constexpr auto read_key = "read-key-0123456789";
constexpr auto write_key = "write-key-0123456789";

// Keeps the answer of one exchange; the fake finder answers before the gateway returns.
class sync_sink : public orch::http::response_sink {
public:
  void send(std::uint64_t, response&& res) override { res_ = std::move(res); }

  std::shared_ptr<orch::http::stream_writer> open_stream(std::uint64_t, response&&) override {
    return nullptr;
  }

  std::optional<response> res_;
};

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "not JSON: " << text);
  return doc;
}

struct fixture {
  fixture() {
    orch::http::gateway_config cfg;
    cfg.keys = {{read_key, orch::api_scope::read}, {write_key, orch::api_scope::write}};
    cfg.rate_limit_per_minute = 10'000;
    gw = std::make_unique<orch::http::gateway>(cfg, registry);
    orch::http::add_orphan_routes(*gw, finder);
    finder.items
      = {orphan{orphan_kind::server, "s1", "web-1", "d-gone", orphan_reason::deployment_deleted},
         orphan{orphan_kind::network, "n1", "net", "d-unknown", orphan_reason::deployment_unknown}};
  }

  response call(bhttp::verb method, const std::string& target, const char* key = write_key) {
    request req{method, target, 11};
    req.set("X-API-Key", key);
    req.prepare_payload();
    auto sink = std::make_shared<sync_sink>();
    (*gw)(std::move(req), orch::http::request_context{"127.0.0.1", {}, {}, false},
          orch::http::responder{sink, 1});
    BOOST_REQUIRE_MESSAGE(sink->res_.has_value(), "no answer to " << target);
    return std::move(*sink->res_);
  }

  prometheus::Registry registry;
  orch::testing::fake_orphan_finder finder;
  std::unique_ptr<orch::http::gateway> gw;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(orphan_routes, fixture)

BOOST_AUTO_TEST_CASE(list_shows_every_orphan_with_kind_owner_and_reason) {
  auto res = call(bhttp::verb::get, "/orphans", read_key);
  BOOST_TEST(res.result_int() == 200u);
  auto doc = parse(res.body());
  BOOST_TEST(doc["total"].GetInt() == 2);
  BOOST_REQUIRE(doc["items"].Size() == 2u);
  const auto& first = doc["items"][0];
  BOOST_TEST(first["kind"].GetString() == std::string{"server"});
  BOOST_TEST(first["id"].GetString() == std::string{"s1"});
  BOOST_TEST(first["name"].GetString() == std::string{"web-1"});
  BOOST_TEST(first["deployment_id"].GetString() == std::string{"d-gone"});
  BOOST_TEST(first["reason"].GetString() == std::string{"deployment_deleted"});
  BOOST_TEST(doc["items"][1]["kind"].GetString() == std::string{"network"});
  BOOST_TEST(doc["items"][1]["reason"].GetString() == std::string{"deployment_unknown"});
}

BOOST_AUTO_TEST_CASE(empty_cloud_lists_no_orphans) {
  finder.items.clear();
  auto res = call(bhttp::verb::get, "/orphans");
  BOOST_TEST(res.result_int() == 200u);
  BOOST_TEST(res.body() == R"({"items":[],"total":0})");
}

BOOST_AUTO_TEST_CASE(unreachable_cloud_answers_503_with_retry_after) {
  finder.failure = orch::make_error(orch::errc::unavailable, "keystone down");
  auto res = call(bhttp::verb::get, "/orphans");
  BOOST_TEST(res.result_int() == 503u);
  BOOST_TEST(res.count(bhttp::field::retry_after) == 1u);
}

BOOST_AUTO_TEST_CASE(cleanup_is_accepted_with_the_count_and_starts_the_deletion) {
  auto res = call(bhttp::verb::post, "/orphans/cleanup");
  BOOST_TEST(res.result_int() == 202u);
  auto doc = parse(res.body());
  BOOST_TEST(doc["status"].GetString() == std::string{"accepted"});
  BOOST_TEST(doc["count"].GetInt() == 2);
  BOOST_TEST(finder.cleanups == 1);
  BOOST_TEST(finder.items.empty());
}

BOOST_AUTO_TEST_CASE(cleanup_with_a_read_key_is_forbidden_and_deletes_nothing) {
  auto res = call(bhttp::verb::post, "/orphans/cleanup", read_key);
  BOOST_TEST(res.result_int() == 403u);
  BOOST_TEST(finder.cleanups == 0);
  BOOST_TEST(finder.items.size() == 2u);
}

BOOST_AUTO_TEST_CASE(cleanup_when_the_database_is_down_answers_503) {
  finder.failure = orch::make_error(orch::errc::store_unavailable, "pg down");
  auto res = call(bhttp::verb::post, "/orphans/cleanup");
  BOOST_TEST(res.result_int() == 503u);
}

BOOST_AUTO_TEST_SUITE_END()
