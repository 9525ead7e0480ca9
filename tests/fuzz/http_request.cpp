// Raw bytes as one HTTP/1.1 request: Beast's parser with the server's limits, then the gateway
// (request id, CORS, authentication, rate limit, routing, content type) and every API route
// over in-memory repositories and a fake engine. Whatever arrives, the answer must be a
// well-formed response; a request that does not parse is what the server answers 400.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <prometheus/registry.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/null_sink.h>

#include "fake_deployment_engine.hpp"
#include "fuzz_support.hpp"
#include "orch/http/api_routes.hpp"
#include "orch/http/blocking_pool.hpp"
#include "orch/http/gateway.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"
#include "orch/persistence/memory_template_repository.hpp"
#include "orch/schemas/template_json.hpp"
#include "orch/uuid.hpp"

namespace bhttp = boost::beast::http;
using orch::http::request;
using orch::http::response;

namespace {

// The same limits as the server's defaults (server_config).
constexpr std::size_t max_body_bytes = 1024 * 1024;
constexpr std::uint32_t max_header_bytes = 16 * 1024;

// A handler that has not answered after this long is a hang.
constexpr auto patience = std::chrono::seconds{10};

// Keys and ids the seed corpus and the dictionary use.
constexpr auto read_key = "fuzz-read-key-0123456789";
constexpr auto write_key = "fuzz-write-key-0123456789";
constexpr auto seeded_deployment = "00000000-0000-4000-8000-000000000001";

constexpr auto seeded_template = R"({"name": "web-app-stack", "description": "web",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 2},
                "db": {"flavor": "m1.large", "image": "ubuntu-22.04", "count": 1,
                       "volumes": [{"size_gb": 20}]}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"web": "10.0.1.0/24"},
                     "router": true}})";

// A stream the harness ends as soon as its head arrived, as a client that disconnects would.
class closing_stream : public orch::http::stream_writer {
public:
  bool write(std::string) override {
    std::lock_guard guard{mtx_};
    return open_;
  }

  void close() override {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard guard{mtx_};
      if (!open_) return;
      open_ = false;
      callbacks.swap(on_close_);
    }
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

private:
  mutable std::mutex mtx_;
  bool open_ = true;
  std::vector<std::function<void()>> on_close_;
};

// Receives the one answer of the exchange, whichever thread sends it.
class capture_sink : public orch::http::response_sink {
public:
  void send(std::uint64_t, response&& res) override { deliver(std::move(res), false); }

  std::shared_ptr<orch::http::stream_writer> open_stream(std::uint64_t, response&& head) override {
    auto writer = std::make_shared<closing_stream>();
    {
      std::lock_guard guard{mtx_};
      streams_.push_back(writer);
    }
    deliver(std::move(head), true);
    return writer;
  }

  void abort(std::uint64_t) override {
    std::lock_guard guard{mtx_};
    aborted_ = true;
    cv_.notify_all();
  }

  // The answer, or `nullopt` if the handler aborted the connection; a hang is a finding.
  std::optional<response> wait(bool& streamed) {
    std::unique_lock lock{mtx_};
    if (!cv_.wait_for(lock, patience, [this] { return res_.has_value() || aborted_; })) {
      std::fprintf(stderr, "no answer within %lld s\n", static_cast<long long>(patience.count()));
      std::abort();
    }
    streamed = streamed_;
    return res_;
  }

  void close_streams() {
    std::vector<std::shared_ptr<closing_stream>> streams;
    {
      std::lock_guard guard{mtx_};
      streams.swap(streams_);
    }
    for (auto& s : streams) s->close();
  }

private:
  // Later answers to the same exchange are ignored, as the sink's contract says.
  void deliver(response&& res, bool streamed) {
    std::lock_guard guard{mtx_};
    if (res_ || aborted_) return;
    res_ = std::move(res);
    streamed_ = streamed;
    cv_.notify_all();
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::optional<response> res_;
  bool streamed_ = false;
  bool aborted_ = false;
  std::vector<std::shared_ptr<closing_stream>> streams_;
};

std::optional<request> parse_request(std::string_view bytes) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(max_header_bytes);
  parser.body_limit(max_body_bytes);
  parser.eager(true);
  boost::beast::error_code ec;
  while (!bytes.empty() && !parser.is_done()) {
    auto used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec == bhttp::error::need_more) ec = {};
    if (ec || used == 0) break;
    bytes.remove_prefix(used);
  }
  // A request that is not complete is a client that stopped sending: the server's timeout,
  // not a request (and an error is the server's 400, 413 or 431).
  if (ec || !parser.is_done()) return std::nullopt;
  return parser.release();
}

// What a client must be able to read back: a status, the headers every answer carries, and a
// problem+json body that says the same status.
void check_response(const request& req, response& res, bool streamed) {
  auto code = static_cast<unsigned>(res.result_int());
  ORCH_FUZZ_ASSERT(code >= 100 && code <= 599);
  ORCH_FUZZ_ASSERT(res.find("X-Request-ID") != res.end());
  if (streamed) return;
  if (!res.body().empty()) ORCH_FUZZ_ASSERT(res.find(bhttp::field::content_type) != res.end());
  auto field = res[bhttp::field::content_type];
  auto type = std::string_view{field.data(), field.size()};
  if (type.starts_with("application/problem+json") && req.method() != bhttp::verb::head) {
    rapidjson::Document doc;
    doc.Parse(res.body().data(), res.body().size());
    ORCH_FUZZ_ASSERT(!doc.HasParseError() && doc.IsObject());
    ORCH_FUZZ_ASSERT(doc.HasMember("status") && doc["status"].IsInt()
                     && doc["status"].GetInt() == static_cast<int>(code));
  }
  // The answer serializes and parses back as HTTP.
  res.prepare_payload();
  std::ostringstream wire;
  wire << res;
  auto text = wire.str();
  bhttp::response_parser<bhttp::string_body> back;
  back.eager(true);
  back.skip(req.method() == bhttp::verb::head);
  boost::beast::error_code ec;
  back.put(boost::asio::buffer(text), ec);
  ORCH_FUZZ_ASSERT(!ec && back.is_done());
}

orch::deployment_record seeded_record(const orch::template_spec& spec) {
  orch::deployment_record rec;
  rec.id = *orch::uuid::parse(seeded_deployment);
  rec.name = "demo-app";
  rec.spec = spec;
  rec.cloud_region = "RegionOne";
  rec.created_at = orch::timestamp{std::chrono::seconds{1'767'225'600}};
  rec.updated_at = rec.created_at;
  return rec;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (orch::fuzz::silence_logs(), true);
  (void)quiet;
  auto req = parse_request({reinterpret_cast<const char*>(data), size});
  if (!req) return 0;

  // A fresh world per input: no state (rate-limit buckets, stored templates) leaks from one
  // input into the next, so every finding replays alone.
  orch::persistence::memory_template_repository templates;
  orch::persistence::memory_deployment_repository deployments;
  orch::testing::fake_deployment_engine engine{deployments};
  auto spec = std::get<orch::template_spec>(orch::schemas::parse_template(seeded_template));
  auto stored = templates.create(spec);
  ORCH_FUZZ_ASSERT(stored);
  auto rec = seeded_record(spec);
  rec.template_id = stored->id;
  ORCH_FUZZ_ASSERT(deployments.create(rec, std::nullopt));

  orch::http::blocking_pool pool{1};
  prometheus::Registry registry;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours{1};
  orch::http::gateway_config cfg;
  cfg.keys = {{read_key, orch::api_scope::read}, {write_key, orch::api_scope::write}};
  cfg.cors_origins = {"https://ui.example"};
  cfg.rate_limit_per_minute = 100;
  auto gw = std::make_unique<orch::http::gateway>(std::move(cfg), registry, [now] { return now; });
  orch::http::event_feed_metrics feed_metrics{registry};
  orch::http::event_feed feed{
    {}, deployments, [&pool](auto work) { pool.run(std::move(work)); }, feed_metrics};
  orch::http::api_dependencies deps{templates, pool, deployments, &engine, {"RegionOne"}, nullptr};
  deps.events = &feed;
  orch::http::add_api_routes(*gw, deps);

  auto sink = std::make_shared<capture_sink>();
  orch::http::request_context ctx;
  ctx.remote_address = "127.0.0.1";
  auto copy = *req;
  (*gw)(std::move(copy), ctx, orch::http::responder{sink, 1});
  bool streamed = false;
  auto res = sink->wait(streamed);
  sink->close_streams();
  // Finish what the handlers queued before the repositories go away.
  pool.stop();
  gw.reset();
  if (res) check_response(*req, *res, streamed);
  return 0;
}
