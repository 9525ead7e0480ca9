#include "api.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>

#include "orch/http/client_transport.hpp"
#include "orch/openstack/url.hpp"

namespace orch::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Answers and keep-alive comments (every 15 s) must come faster than this, else the stream
// counts as dropped and is opened again.
constexpr auto stream_read_timeout = 45s;
constexpr auto connect_timeout = 10s;
// Consecutive failed attempts to (re)open a stream before giving up.
constexpr int max_stream_attempts = 30;

std::string bare_host(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x))
                  == std::tolower(static_cast<unsigned char>(y));
         });
}

// What one attempt at the stream ended with.
struct attempt_result {
  std::optional<stream_end> end;
  std::optional<api_response> refused;
  // Set when the connection failed or dropped: worth another attempt.
  std::string dropped;
  bool received_any = false;
};

struct stream_job {
  const settings& cfg;
  const std::string& user_agent;
  openstack::parsed_url base;
  std::string target;
  const std::function<bool(const sse_event&)>& on_event;
  sse_reader reader;
  asio::ssl::context tls{asio::ssl::context::tls_client};

  template <class Stream>
  awaitable<attempt_result> exchange(Stream& stream, beast::tcp_stream& lowest) {
    attempt_result result;
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get,
                                          base.path == "/" ? target : base.path + target, 11};
    req.set(bhttp::field::host, base.host);
    req.set(bhttp::field::user_agent, user_agent);
    req.set(bhttp::field::accept, "text/event-stream");
    req.set(bhttp::field::cache_control, "no-cache");
    if (!cfg.api_key.empty()) req.set("X-API-Key", cfg.api_key);
    if (!reader.last_event_id().empty()) req.set("Last-Event-ID", reader.last_event_id());
    lowest.expires_after(stream_read_timeout);
    co_await bhttp::async_write(stream, req, use_awaitable);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    co_await bhttp::async_read_header(stream, buffer, parser, use_awaitable);
    auto status = parser.get().result_int();
    std::array<char, 8192> chunk{};
    if (status != 200) {
      // An error answer: read it whole (problem+json is small) and hand it back.
      api_response res;
      res.status = static_cast<int>(status);
      for (auto& f : parser.get())
        res.headers.emplace_back(std::string{f.name_string()}, std::string{f.value()});
      while (!parser.is_done() && res.body.size() < (1u << 20)) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        beast::error_code ec;
        co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
        if (ec && ec != bhttp::error::need_buffer) break;
        res.body.append(chunk.data(), chunk.size() - parser.get().body().size);
      }
      result.refused = std::move(res);
      co_return result;
    }
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      lowest.expires_after(stream_read_timeout);
      beast::error_code ec;
      co_await bhttp::async_read_some(stream, buffer, parser,
                                      asio::redirect_error(use_awaitable, ec));
      if (ec == bhttp::error::need_buffer) ec = {};
      auto got = chunk.size() - parser.get().body().size;
      if (got > 0) {
        for (auto& ev : reader.feed(std::string_view{chunk.data(), got})) {
          result.received_any = true;
          if (!on_event(ev)) {
            result.end = stream_end::stopped;
            co_return result;
          }
        }
      }
      if (ec) {
        result.dropped = ec == beast::error::timeout ? "no data for 45 s" : ec.message();
        co_return result;
      }
    }
    result.end = stream_end::closed;
    co_return result;
  }

  awaitable<attempt_result> attempt() {
    auto exec = co_await asio::this_coro::executor;
    tcp::resolver resolver{exec};
    beast::tcp_stream plain{exec};
    plain.expires_after(connect_timeout);
    auto endpoints = co_await resolver.async_resolve(bare_host(base.host),
                                                     std::to_string(base.port), use_awaitable);
    co_await plain.async_connect(endpoints, use_awaitable);
    if (base.scheme != "https") co_return co_await exchange(plain, plain);
    beast::ssl_stream<beast::tcp_stream> secure{std::move(plain), tls};
    auto host = bare_host(base.host);
    if (!SSL_set_tlsext_host_name(secure.native_handle(), host.c_str()))
      throw beast::system_error{
        beast::error_code{static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()}};
    secure.set_verify_callback(asio::ssl::host_name_verification{host});
    co_await secure.async_handshake(asio::ssl::stream_base::client, use_awaitable);
    co_return co_await exchange(secure, beast::get_lowest_layer(secure));
  }
};

} // namespace

std::string api_response::header(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

api_client::api_client(settings cfg, std::string user_agent)
  : cfg_(std::move(cfg)), user_agent_(std::move(user_agent)) {
  // nop
}

std::variant<api_response, transport_problem>
api_client::call(const std::string& method, const std::string& target, const std::string& body,
                 std::vector<std::pair<std::string, std::string>> headers) {
  asio::io_context ioc;
  http::client_transport_config tcfg;
  tcfg.user_agent = user_agent_;
  tcfg.max_connections_per_endpoint = 1;
  auto transport = http::client_transport::make(ioc.get_executor(), tcfg);
  if (!transport) return transport_problem{"cannot set up the HTTP client"};
  openstack::http_call req;
  req.method = method;
  req.url = openstack::join_url(cfg_.url, target);
  req.headers = std::move(headers);
  req.headers.emplace_back("Accept", "application/json");
  if (!cfg_.api_key.empty()) req.headers.emplace_back("X-API-Key", cfg_.api_key);
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.body = body;
  std::variant<api_response, transport_problem> result = transport_problem{"no answer"};
  (*transport)->send(std::move(req), [&result](openstack::transport_outcome outcome) {
    if (auto res = std::get_if<openstack::http_result>(&outcome)) {
      result = api_response{res->status, std::move(res->headers), std::move(res->body)};
    } else {
      auto& failure = std::get<openstack::transport_failure>(outcome);
      result = transport_problem{to_string(failure.error) + ": " + failure.detail};
    }
  });
  ioc.run();
  // The transport must die on its executor's thread, before the io_context.
  transport->reset();
  return result;
}

std::variant<stream_end, api_response, transport_problem>
api_client::stream(const std::string& target, int64_t after,
                   const std::function<bool(const sse_event&)>& on_event,
                   const std::function<bool()>& on_tick, const std::function<bool()>& is_final) {
  auto base = openstack::parse_url(cfg_.url);
  if (!base) return transport_problem{"not a URL: " + cfg_.url};
  auto sep = target.find('?') == std::string::npos ? "?" : "&";
  stream_job job{cfg_,     user_agent_, *base, target + sep + "after=" + std::to_string(after),
                 on_event, {}};
  job.tls.set_default_verify_paths();
  job.tls.set_verify_mode(asio::ssl::verify_peer);
  asio::io_context ioc;
  std::variant<stream_end, api_response, transport_problem> result = transport_problem{"no answer"};
  bool running = true;
  asio::co_spawn(
    ioc,
    [&]() -> awaitable<void> {
      int failures = 0;
      for (;;) {
        attempt_result r;
        try {
          r = co_await job.attempt();
        } catch (const boost::system::system_error& ex) {
          r.dropped = ex.code().message();
        }
        if (r.end == stream_end::closed && !is_final()) {
          r.end.reset();
          r.dropped = "the server ended the stream";
        }
        if (r.end) {
          result = *r.end;
          break;
        }
        if (r.refused) {
          result = std::move(*r.refused);
          break;
        }
        failures = r.received_any ? 1 : failures + 1;
        if (failures >= max_stream_attempts) {
          result = transport_problem{"event stream: " + r.dropped};
          break;
        }
        // Dropped: wait a little (longer after repeated failures), then resume after the last
        // event seen.
        ++reconnects_;
        asio::steady_timer pause{ioc, std::chrono::milliseconds{std::min(failures, 5) * 200}};
        co_await pause.async_wait(use_awaitable);
      }
      running = false;
      ioc.stop();
    },
    asio::detached);
  asio::steady_timer ticker{ioc};
  std::function<void()> tick = [&] {
    ticker.expires_after(1s);
    ticker.async_wait([&](beast::error_code ec) {
      if (ec || !running) return;
      if (!on_tick()) {
        result = stream_end::stopped;
        running = false;
        ioc.stop();
        return;
      }
      tick();
    });
  };
  tick();
  ioc.run();
  return result;
}

} // namespace orch::ctl
