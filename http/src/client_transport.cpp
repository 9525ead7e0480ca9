#include "orch/http/client_transport.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <sys/socket.h>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include "orch/config.hpp"
#include "orch/errc.hpp"
#include "orch/logging.hpp"
#include "orch/openstack/url.hpp"

namespace orch::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

using openstack::http_call;
using openstack::http_result;
using openstack::transport_error;
using openstack::transport_failure;
using openstack::transport_outcome;

namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto instance = orch::logger("orch.openstack");
  return instance;
}

/// Methods that may be repeated after a stale keep-alive connection broke under them.
bool is_idempotent_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE"
         || method == "OPTIONS";
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

/// The host without IPv6 brackets, as resolvers and certificate checks want it.
std::string bare_host(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

/// One open connection, plain or TLS.
struct connection {
  std::string key;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  steady_clock::time_point idle_since;
  /// Exchanges completed on it; > 0 means the next use is a reuse.
  std::size_t uses = 0;

  tcp::socket& socket() { return tls ? beast::get_lowest_layer(*tls).socket() : plain->socket(); }

  void close() {
    boost::system::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  /// Whether an idle connection can carry another request: the server has neither closed it
  /// (FIN) nor sent anything unasked (a 408, a TLS close_notify).
  bool is_reusable() {
    auto& s = socket();
    if (!s.is_open() || buffer.size() > 0) return false;
    char byte = 0;
    auto n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

using connection_ptr = std::shared_ptr<connection>;

struct exchange;
using exchange_ptr = std::shared_ptr<exchange>;

/// The connections of one scheme + host + port.
struct endpoint_pool {
  /// Most recently used last: reusing the warmest connection keeps the rest idle long enough
  /// to expire.
  std::vector<connection_ptr> idle;
  /// Idle, busy and connecting connections.
  std::size_t open = 0;
  std::deque<exchange_ptr> waiters;
};

enum class phase { queued, connecting, writing, reading, finished };

} // namespace

struct client_transport::impl : std::enable_shared_from_this<impl> {
  asio::any_io_executor exec;
  client_transport_config cfg;
  ssl::context tls_context{ssl::context::tls_client};
  std::map<std::string, endpoint_pool> pools;
  std::unordered_map<std::uint64_t, std::weak_ptr<exchange>> live;
  std::unordered_map<std::uint64_t, std::shared_ptr<asio::steady_timer>> timers;
  std::uint64_t next_id = 1;
  std::size_t opened = 0;
  bool stopped = false;

  impl(asio::any_io_executor ex, client_transport_config config)
    : exec(std::move(ex)), cfg(std::move(config)) {
    // nop
  }

  void acquire(const exchange_ptr& ex);
  void connect(const exchange_ptr& ex);
  void start_write(const exchange_ptr& ex);
  void start_read(const exchange_ptr& ex);
  void on_deadline(const exchange_ptr& ex, std::uint64_t generation);
  void arm(const exchange_ptr& ex, steady_clock::time_point when);
  void fail(const exchange_ptr& ex, transport_error err, std::string detail);
  void retry_or_fail(const exchange_ptr& ex, const boost::system::error_code& ec,
                     std::string_view what);
  void release(const connection_ptr& conn, bool keep_alive);
  void serve_waiters(const std::string& key);
  void shutdown();
};

namespace {

/// One attempt of one call, from queueing to the callback.
struct exchange {
  std::uint64_t id = 0;
  std::shared_ptr<client_transport::impl> owner;
  openstack::parsed_url url;
  std::string key;
  std::string method;
  bhttp::request<bhttp::string_body> request;
  std::function<void(transport_outcome)> done;
  steady_clock::time_point deadline;
  asio::steady_timer timer;
  std::uint64_t timer_generation = 0;
  tcp::resolver resolver;
  connection_ptr conn;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  phase state = phase::queued;
  /// Set once the one repetition after a stale connection was used.
  bool repeated = false;

  explicit exchange(const asio::any_io_executor& exec) : timer(exec), resolver(exec) {
    // nop
  }

  template <class F>
  void with_stream(F&& f) {
    if (conn->tls)
      f(*conn->tls);
    else
      f(*conn->plain);
  }
};

std::string endpoint_key(const openstack::parsed_url& url) {
  return url.scheme + "://" + url.host + ":" + std::to_string(url.port);
}

bool is_too_large(const boost::system::error_code& ec) {
  return ec == bhttp::error::body_limit || ec == bhttp::error::header_limit
         || ec == bhttp::error::buffer_overflow;
}

} // namespace

// -- pool -----------------------------------------------------------------------------------

void client_transport::impl::acquire(const exchange_ptr& ex) {
  auto& pool = pools[ex->key];
  auto now = steady_clock::now();
  while (!pool.idle.empty()) {
    auto conn = std::move(pool.idle.back());
    pool.idle.pop_back();
    if (now - conn->idle_since <= cfg.idle_timeout && conn->is_reusable()) {
      ex->conn = std::move(conn);
      return start_write(ex);
    }
    conn->close();
    --pool.open;
  }
  if (pool.open < cfg.max_connections_per_endpoint && pool.waiters.empty()) {
    ++pool.open;
    return connect(ex);
  }
  ex->state = phase::queued;
  pool.waiters.push_back(ex);
}

void client_transport::impl::serve_waiters(const std::string& key) {
  auto& pool = pools[key];
  while (!pool.waiters.empty()) {
    auto ex = pool.waiters.front();
    if (!pool.idle.empty()) {
      pool.waiters.pop_front();
      auto conn = std::move(pool.idle.back());
      pool.idle.pop_back();
      if (steady_clock::now() - conn->idle_since <= cfg.idle_timeout && conn->is_reusable()) {
        ex->conn = std::move(conn);
        start_write(ex);
      } else {
        conn->close();
        --pool.open;
        pool.waiters.push_front(ex);
      }
    } else if (pool.open < cfg.max_connections_per_endpoint) {
      pool.waiters.pop_front();
      ++pool.open;
      connect(ex);
    } else {
      return;
    }
  }
}

void client_transport::impl::release(const connection_ptr& conn, bool keep_alive) {
  auto& pool = pools[conn->key];
  if (keep_alive && !stopped) {
    ++conn->uses;
    conn->idle_since = steady_clock::now();
    pool.idle.push_back(conn);
  } else {
    conn->close();
    --pool.open;
  }
  serve_waiters(conn->key);
}

// -- exchange steps -------------------------------------------------------------------------

void client_transport::impl::arm(const exchange_ptr& ex, steady_clock::time_point when) {
  auto generation = ++ex->timer_generation;
  ex->timer.expires_at(when);
  ex->timer.async_wait([ex, generation](const boost::system::error_code& ec) {
    if (ec) return; // re-armed or cancelled
    ex->owner->on_deadline(ex, generation);
  });
}

void client_transport::impl::on_deadline(const exchange_ptr& ex, std::uint64_t generation) {
  if (stopped || ex->state == phase::finished || generation != ex->timer_generation) return;
  switch (ex->state) {
    case phase::queued: {
      auto& waiters = pools[ex->key].waiters;
      waiters.erase(std::remove(waiters.begin(), waiters.end(), ex), waiters.end());
      return fail(ex, transport_error::connect_failed,
                  "no connection to " + ex->key + " became free in time");
    }
    case phase::connecting:
      return fail(ex, transport_error::connect_failed, "connecting to " + ex->key + " timed out");
    case phase::writing:
    case phase::reading:
      return fail(ex, transport_error::timeout,
                  "no complete response from " + ex->key + " in time");
    case phase::finished: return;
  }
}

void client_transport::impl::fail(const exchange_ptr& ex, transport_error err, std::string detail) {
  if (ex->state == phase::finished) return;
  ex->state = phase::finished;
  ex->timer.cancel();
  ex->resolver.cancel();
  live.erase(ex->id);
  log()->debug("openstack transport: {} {} failed: {} ({})", ex->method, ex->key,
               openstack::to_string(err), detail);
  if (ex->conn) {
    // A connection that failed mid-exchange is in an unknown state: never pool it.
    auto conn = std::move(ex->conn);
    conn->close();
    --pools[conn->key].open;
    serve_waiters(conn->key);
  }
  auto done = std::move(ex->done);
  done(transport_failure{err, std::move(detail)});
}

void client_transport::impl::retry_or_fail(const exchange_ptr& ex,
                                           const boost::system::error_code& ec,
                                           std::string_view what) {
  if (ex->state == phase::finished) return;
  bool got_response_bytes = ex->parser && ex->parser->got_some();
  bool stale_candidate = ex->conn && ex->conn->uses > 0 && !got_response_bytes;
  if (stale_candidate && !ex->repeated && is_idempotent_method(ex->method)) {
    // The server most likely closed the idle connection as we sent: repeat once on a new one.
    log()->debug("openstack transport: {} {} reused connection closed ({}), repeating on a "
                 "fresh connection",
                 ex->method, ex->key, ec.message());
    ex->repeated = true;
    auto conn = std::move(ex->conn);
    conn->close();
    // The freed slot goes straight to the repetition; waiters keep their order behind it.
    ex->parser.reset();
    return connect(ex);
  }
  fail(ex, transport_error::connection_reset, std::string{what} + ": " + ec.message());
}

void client_transport::impl::connect(const exchange_ptr& ex) {
  ex->state = phase::connecting;
  arm(ex, std::min(ex->deadline, steady_clock::now() + cfg.connect_timeout));
  auto conn = std::make_shared<connection>();
  conn->key = ex->key;
  if (ex->url.scheme == "https")
    conn->tls.emplace(exec, tls_context);
  else
    conn->plain.emplace(exec);
  ++opened;
  ex->conn = conn;
  ex->resolver.async_resolve(
    bare_host(ex->url.host), std::to_string(ex->url.port),
    [ex](const boost::system::error_code& ec, tcp::resolver::results_type results) {
      auto& self = *ex->owner;
      if (self.stopped || ex->state != phase::connecting) return;
      if (ec)
        return self.fail(ex, transport_error::connect_failed,
                         "cannot resolve " + ex->url.host + ": " + ec.message());
      // Every operation on a connection holds it (`keep`): a timeout or failure drops the
      // exchange's reference while the cancelled operation still touches its socket and buffer.
      asio::async_connect(
        ex->conn->socket(), results,
        [ex, keep = ex->conn](const boost::system::error_code& cec, const tcp::endpoint&) {
          auto& owner = *ex->owner;
          if (owner.stopped || ex->state != phase::connecting) return;
          if (cec)
            return owner.fail(ex, transport_error::connect_failed,
                              "cannot connect to " + ex->key + ": " + cec.message());
          ex->conn->socket().set_option(tcp::no_delay{true});
          if (!ex->conn->tls) {
            owner.arm(ex, ex->deadline);
            return owner.start_write(ex);
          }
          auto& tls = *ex->conn->tls;
          auto host = bare_host(ex->url.host);
          // SNI carries names only; an IP literal is checked against the certificate's IP SANs.
          if (!is_ip_literal(host) && !SSL_set_tlsext_host_name(tls.native_handle(), host.c_str()))
            return owner.fail(ex, transport_error::connect_failed, "cannot set TLS SNI");
          if (!owner.cfg.insecure) {
            tls.set_verify_mode(ssl::verify_peer);
            tls.set_verify_callback(ssl::host_name_verification(host));
          } else {
            tls.set_verify_mode(ssl::verify_none);
          }
          tls.async_handshake(
            ssl::stream_base::client, [ex, keep](const boost::system::error_code& hec) {
              auto& me = *ex->owner;
              if (me.stopped || ex->state != phase::connecting) return;
              if (hec)
                return me.fail(ex, transport_error::connect_failed,
                               "TLS handshake with " + ex->key + " failed: " + hec.message());
              me.arm(ex, ex->deadline);
              me.start_write(ex);
            });
        });
    });
}

void client_transport::impl::start_write(const exchange_ptr& ex) {
  ex->state = phase::writing;
  ex->parser.reset();
  ex->with_stream([&ex](auto& stream) {
    bhttp::async_write(stream, ex->request,
                       [ex, keep = ex->conn](const boost::system::error_code& ec, std::size_t) {
                         auto& self = *ex->owner;
                         if (self.stopped || ex->state != phase::writing) return;
                         if (ec) return self.retry_or_fail(ex, ec, "sending the request failed");
                         self.start_read(ex);
                       });
  });
}

void client_transport::impl::start_read(const exchange_ptr& ex) {
  ex->state = phase::reading;
  auto& parser = ex->parser.emplace();
  parser.body_limit(cfg.max_response_bytes);
  parser.header_limit(
    static_cast<std::uint32_t>(std::min<std::size_t>(cfg.max_response_bytes, 64 * 1024)));
  if (ex->method == "HEAD") parser.skip(true);
  ex->with_stream([&ex, &parser](auto& stream) {
    bhttp::async_read(
      stream, ex->conn->buffer, parser,
      [ex, keep = ex->conn](const boost::system::error_code& ec, std::size_t) {
        auto& self = *ex->owner;
        if (self.stopped || ex->state != phase::reading) return;
        if (is_too_large(ec))
          return self.fail(ex, transport_error::response_too_large,
                           "the response from " + ex->key + " exceeds "
                             + std::to_string(self.cfg.max_response_bytes) + " bytes");
        if (ec) return self.retry_or_fail(ex, ec, "reading the response failed");
        auto res = ex->parser->release();
        http_result out;
        out.status = static_cast<int>(res.result_int());
        for (const auto& field : res)
          out.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
        out.body = std::move(res.body());
        ex->state = phase::finished;
        ex->timer.cancel();
        self.live.erase(ex->id);
        self.release(std::move(ex->conn), res.keep_alive());
        auto done = std::move(ex->done);
        done(std::move(out));
      });
  });
}

void client_transport::impl::shutdown() {
  stopped = true;
  for (auto& [id, weak] : live) {
    if (auto ex = weak.lock()) {
      ex->state = phase::finished;
      ex->timer.cancel();
      ex->resolver.cancel();
      if (ex->conn) ex->conn->close();
      ex->done = nullptr;
    }
  }
  live.clear();
  for (auto& [key, pool] : pools) {
    for (auto& conn : pool.idle) conn->close();
    pool.idle.clear();
    pool.waiters.clear();
  }
  for (auto& [id, t] : timers) t->cancel();
  timers.clear();
}

// -- client_transport -----------------------------------------------------------------------

client_transport_config make_transport_config(const orch::openstack_config& cfg) {
  client_transport_config result;
  result.ca_file = cfg.ca_file;
  result.insecure = cfg.insecure;
  return result;
}

caf::expected<std::unique_ptr<client_transport>>
client_transport::make(asio::any_io_executor exec, client_transport_config cfg) {
  if (cfg.max_connections_per_endpoint == 0)
    return make_error(errc::invalid_config, "max_connections_per_endpoint must be positive");
  auto ptr = std::make_shared<impl>(std::move(exec), std::move(cfg));
  boost::system::error_code ec;
  ptr->tls_context.set_default_verify_paths(ec);
  if (ec)
    return make_error(errc::invalid_config, "cannot load the system CA store: " + ec.message());
  if (!ptr->cfg.ca_file.empty()) {
    ptr->tls_context.load_verify_file(ptr->cfg.ca_file, ec);
    if (ec)
      return make_error(errc::invalid_config, "OPENSTACK_CA_FILE " + ptr->cfg.ca_file
                                                + " cannot be loaded: " + ec.message());
  }
  if (!ptr->cfg.ca_pem.empty()) {
    ptr->tls_context.add_certificate_authority(
      boost::asio::buffer(ptr->cfg.ca_pem.data(), ptr->cfg.ca_pem.size()), ec);
    if (ec)
      return make_error(errc::invalid_config,
                        "the stored CA certificate cannot be loaded: " + ec.message());
  }
  ptr->tls_context.set_verify_mode(ptr->cfg.insecure ? ssl::verify_none : ssl::verify_peer);
  if (ptr->cfg.insecure)
    log()->warn("OPENSTACK_INSECURE is set: TLS certificates and host names of the cloud are NOT "
                "verified");
  return std::unique_ptr<client_transport>{new client_transport(std::move(ptr))};
}

client_transport::client_transport(std::shared_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

client_transport::~client_transport() {
  impl_->shutdown();
}

void client_transport::send(http_call call, std::function<void(transport_outcome)> done) {
  auto& self = *impl_;
  auto fail_now = [&](std::string detail) {
    // Deliver later: the client may not expect its callback inside `send`.
    asio::post(self.exec, [w = std::weak_ptr<impl>{impl_}, done = std::move(done),
                           detail = std::move(detail)]() mutable {
      if (auto alive = w.lock(); alive && !alive->stopped)
        done(transport_failure{transport_error::connect_failed, std::move(detail)});
    });
  };
  if (self.stopped) return;
  auto url = openstack::parse_url(call.url);
  if (!url) return fail_now("not an absolute http(s) URL");
  auto verb = bhttp::string_to_verb(call.method);
  if (verb == bhttp::verb::unknown) return fail_now("unsupported method " + call.method);
  auto ex = std::make_shared<exchange>(self.exec);
  ex->id = self.next_id++;
  ex->owner = impl_;
  ex->key = endpoint_key(*url);
  ex->method = call.method;
  ex->done = std::move(done);
  ex->deadline = steady_clock::now() + call.timeout;
  auto target = url->path + (url->query.empty() ? "" : "?" + url->query);
  auto& req = ex->request;
  req = bhttp::request<bhttp::string_body>{verb, target, 11};
  bool default_port
    = (url->scheme == "http" && url->port == 80) || (url->scheme == "https" && url->port == 443);
  req.set(bhttp::field::host,
          default_port ? url->host : url->host + ":" + std::to_string(url->port));
  req.set(bhttp::field::user_agent, self.cfg.user_agent);
  for (auto& [name, value] : call.headers) req.insert(name, value);
  req.body() = std::move(call.body);
  if (!req.body().empty() || verb == bhttp::verb::post || verb == bhttp::verb::put)
    req.prepare_payload();
  req.keep_alive(true);
  ex->url = std::move(*url);
  self.live.emplace(ex->id, ex);
  self.arm(ex, ex->deadline);
  self.acquire(ex);
}

void client_transport::after(milliseconds delay, std::function<void()> fn) {
  auto& self = *impl_;
  if (self.stopped) return;
  auto id = self.next_id++;
  auto t = std::make_shared<asio::steady_timer>(self.exec, delay);
  self.timers.emplace(id, t);
  t->async_wait(
    [w = std::weak_ptr<impl>{impl_}, id, fn = std::move(fn)](const boost::system::error_code& ec) {
      auto alive = w.lock();
      if (!alive || alive->stopped) return;
      alive->timers.erase(id);
      if (!ec) fn();
    });
}

client_transport::time_point client_transport::now() const {
  return steady_clock::now();
}

timestamp client_transport::utc_now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::size_t client_transport::open_connections() const {
  std::size_t n = 0;
  for (auto& [key, pool] : impl_->pools) n += pool.open;
  return n;
}

std::size_t client_transport::queued_calls() const {
  std::size_t n = 0;
  for (auto& [key, pool] : impl_->pools) n += pool.waiters.size();
  return n;
}

std::size_t client_transport::connections_opened() const {
  return impl_->opened;
}

} // namespace orch::http
