#include "orch/http/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "log.hpp"

namespace orch::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using strand_type = net::strand<net::io_context::executor_type>;
using error_code = beast::error_code;

// -- responder ------------------------------------------------------------------------------------

struct responder::hook_node {
  hook fn;
  std::shared_ptr<const hook_node> next;
};

namespace {

/// A stream that never opened: the exchange was already answered or the connection is gone.
class closed_stream final : public stream_writer {
public:
  bool write(std::string) override { return false; }

  void close() override {
    // nop
  }

  bool is_open() const noexcept override { return false; }

  void on_close(std::function<void()> f) override { f(); }
};

/// Collects a stream's chunks and hands the whole response to a function on close.
class buffered_stream final : public stream_writer {
public:
  buffered_stream(std::function<void(response)> fn, response head)
    : fn_(std::move(fn)), head_(std::move(head)) {
    head_.body().clear();
  }

  ~buffered_stream() override { close(); }

  bool write(std::string data) override {
    std::lock_guard guard{mtx_};
    if (!open_) return false;
    head_.body() += data;
    return true;
  }

  void close() override {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard guard{mtx_};
      if (!open_) return;
      open_ = false;
      callbacks.swap(callbacks_);
    }
    fn_(std::move(head_));
    for (auto& f : callbacks) f();
  }

  bool is_open() const noexcept override {
    std::lock_guard guard{mtx_};
    return open_;
  }

  void on_close(std::function<void()> f) override {
    {
      std::lock_guard guard{mtx_};
      if (open_) {
        callbacks_.push_back(std::move(f));
        return;
      }
    }
    f();
  }

private:
  mutable std::mutex mtx_;
  bool open_ = true;
  std::function<void(response)> fn_;
  response head_;
  std::vector<std::function<void()>> callbacks_;
};

/// Adapts a plain function; enforces "first answer wins" like the server does.
class function_sink final : public response_sink {
public:
  explicit function_sink(std::function<void(response)> fn) : fn_(std::move(fn)) {
    // nop
  }

  void send(std::uint64_t, response&& res) override {
    if (!answered_.exchange(true) && fn_) fn_(std::move(res));
  }

  std::shared_ptr<stream_writer> open_stream(std::uint64_t, response&& head) override {
    if (answered_.exchange(true) || !fn_) return std::make_shared<closed_stream>();
    return std::make_shared<buffered_stream>(fn_, std::move(head));
  }

private:
  std::function<void(response)> fn_;
  std::atomic<bool> answered_{false};
};

} // namespace

responder::responder(std::shared_ptr<response_sink> sink, std::uint64_t tag)
  : sink_(std::move(sink)), tag_(tag) {
  // nop
}

responder::responder(std::function<void(response)> fn)
  : sink_(std::make_shared<function_sink>(std::move(fn))) {
  // nop
}

void responder::run_hooks(response& res) const {
  for (auto node = hooks_.get(); node != nullptr; node = node->next.get()) node->fn(res);
}

void responder::operator()(response res) const {
  if (!sink_) return;
  run_hooks(res);
  sink_->send(tag_, std::move(res));
}

void responder::abort() const {
  if (sink_) sink_->abort(tag_);
}

std::shared_ptr<stream_writer> responder::stream(response head) const {
  if (!sink_) return std::make_shared<closed_stream>();
  run_hooks(head);
  return sink_->open_stream(tag_, std::move(head));
}

responder responder::with_hook(hook h) const {
  auto result = *this;
  result.hooks_ = std::make_shared<const hook_node>(hook_node{std::move(h), hooks_});
  return result;
}

// -- server state ---------------------------------------------------------------------------------

namespace {

class session;

response default_error_response(const server_error& err) {
  response res{err.status, err.version};
  res.set(beast_http::field::content_type, "text/plain; charset=utf-8");
  res.body() = err.reason;
  res.body() += '\n';
  return res;
}

/// Everything the connections share. Connections (and the responders and stream writers that
/// point at them) keep it alive, so a late responder never touches a destroyed io_context.
struct shared_state : std::enable_shared_from_this<shared_state> {
  shared_state(server_config config, handler fn)
    : cfg(std::move(config)), on_request(std::move(fn)), ioc(std::max(1, cfg.workers)),
      acceptor(net::make_strand(ioc)), retry_timer(acceptor.get_executor()) {
    if (!cfg.error_response) cfg.error_response = default_error_response;
  }

  /// Called when an exchange ends (response written, stream ended, or connection lost).
  void exchange_done() {
    if (in_flight.fetch_sub(1) == 1 && draining.load()) {
      // Taking the lock orders this notify after the waiter's predicate check.
      { std::lock_guard guard{drain_mtx}; }
      drain_cv.notify_all();
    }
  }

  /// Guards a post from a foreign thread against the final cleanup in `server::stop`.
  bool enter_post() {
    posting.fetch_add(1);
    if (stopped.load()) {
      posting.fetch_sub(1);
      return false;
    }
    return true;
  }

  void leave_post() { posting.fetch_sub(1); }

  void add_session(const std::shared_ptr<session>& s) {
    std::lock_guard guard{sessions_mtx};
    if (sessions.size() >= 2 * live_after_prune + 64) {
      std::erase_if(sessions, [](const auto& w) { return w.expired(); });
      live_after_prune = sessions.size();
    }
    sessions.emplace_back(s);
  }

  std::vector<std::shared_ptr<session>> live_sessions() {
    std::vector<std::shared_ptr<session>> result;
    std::lock_guard guard{sessions_mtx};
    for (auto& w : sessions)
      if (auto s = w.lock()) result.push_back(std::move(s));
    return result;
  }

  response make_error(const server_error& err) {
    try {
      return cfg.error_response(err);
    } catch (...) {
      return default_error_response(err);
    }
  }

  server_config cfg;
  handler on_request;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::atomic<int> posting{0};
  std::mutex drain_mtx;
  std::condition_variable drain_cv;
  std::mutex sessions_mtx;
  std::vector<std::weak_ptr<session>> sessions;
  std::size_t live_after_prune = 0;
  // Declared after everything the handlers touch and before the I/O objects: destroyed after
  // the acceptor and timers, which must unregister from it.
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
};

class session_stream;

/// One connection. Every member function except the `response_sink` overrides, `post_*` and
/// `start` runs on `strand_`.
class session final : public response_sink, public std::enable_shared_from_this<session> {
public:
  session(std::shared_ptr<shared_state> st, strand_type strand, tcp::socket&& sock,
          std::string remote)
    : st_(std::move(st)), strand_(std::move(strand)), stream_(std::move(sock)) {
    ctx_.remote_address = std::move(remote);
    st_->connections.fetch_add(1);
  }

  ~session() override { release_slot(); }

  void start() {
    net::dispatch(strand_, [self = shared_from_this()] { self->do_read_request(); });
  }

  void send(std::uint64_t tag, response&& res) override {
    if (strand_.running_in_this_thread()) return deliver(tag, std::move(res));
    if (!st_->enter_post()) return;
    net::post(strand_, [self = shared_from_this(), tag, res = std::move(res)]() mutable {
      self->deliver(tag, std::move(res));
    });
    st_->leave_post();
  }

  std::shared_ptr<stream_writer> open_stream(std::uint64_t tag, response&& head) override;

  void abort(std::uint64_t tag) override {
    run_on_strand([self = shared_from_this(), tag] {
      if (self->claim(tag)) self->close();
    });
  }

  /// Runs `f` on the strand: inline when already there, posted otherwise.
  template <class F>
  void run_on_strand(F&& f) {
    if (strand_.running_in_this_thread()) return f();
    if (!st_->enter_post()) return;
    net::post(strand_, std::forward<F>(f));
    st_->leave_post();
  }

  void post_stream_write(std::string data) {
    run_on_strand([self = shared_from_this(), data = std::move(data)]() mutable {
      self->stream_write(std::move(data));
    });
  }

  void post_stream_end() {
    run_on_strand([self = shared_from_this()] { self->stream_end(); });
  }

  /// The server is stopping: idle connections close, streams end, others finish their exchange.
  void begin_drain() {
    if (phase_ == phase::reading)
      close();
    else if (phase_ == phase::streaming)
      stream_end();
  }

  void close();

private:
  /// Gives back this connection's place under `max_connections`: at close, not at destruction,
  /// since a handler may hold a closed session for a while (a stream writer).
  void release_slot() {
    if (!slot_released_.exchange(true)) st_->connections.fetch_sub(1);
  }

  enum class phase { reading, handling, writing, streaming, closing, closed };

  void do_read_request() {
    if (st_->draining.load()) return close();
    phase_ = phase::reading;
    parser_.emplace();
    parser_->header_limit(st_->cfg.max_header_bytes);
    parser_->body_limit(st_->cfg.max_body_bytes);
    if (buffer_.size() > 0) return do_read_header(); // pipelined: the next request is already here
    // Waiting for the first byte is the idle phase; the header timeout starts once it arrives.
    stream_.expires_after(st_->cfg.idle_timeout);
    stream_.async_read_some(
      buffer_.prepare(read_chunk),
      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_first_bytes(ec, n); });
  }

  void on_first_bytes(error_code ec, std::size_t n) {
    if (ec) return close();
    buffer_.commit(n);
    do_read_header();
  }

  void do_read_header() {
    stream_.expires_after(st_->cfg.header_timeout);
    beast_http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return on_request();
    const auto& req = parser_->get();
    if (req.version() == 11 && beast::iequals(req[beast_http::field::expect], "100-continue")) {
      static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(st_->cfg.write_timeout);
      net::async_write(stream_, net::buffer(continue_line.data(), continue_line.size()),
                       [self = shared_from_this()](error_code wec, std::size_t) {
                         if (wec) return self->close();
                         self->do_read_body();
                       });
      return;
    }
    do_read_body();
  }

  void do_read_body() {
    stream_.expires_after(st_->cfg.body_timeout);
    beast_http::async_read(stream_, buffer_, *parser_,
                           [self = shared_from_this()](error_code ec, std::size_t) {
                             if (ec) return self->on_read_error(ec);
                             self->on_request();
                           });
  }

  void on_read_error(error_code ec) {
    // Beast reports a Content-Length over the limit before it marks the header done, but with
    // every field already parsed.
    if (ec == beast_http::error::body_limit)
      return fail_request(beast_http::status::payload_too_large, "request body too large", true);
    if (ec == beast_http::error::header_limit)
      return fail_request(beast_http::status::request_header_fields_too_large,
                          "request header too large");
    // A parse error from Beast (not a clean or torn end of stream) means garbage on the wire.
    if (ec.category() == beast_http::make_error_code(beast_http::error::bad_method).category()
        && ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message)
      return fail_request(beast_http::status::bad_request, "malformed request");
    // Timeouts, resets and clean closes: nobody to answer.
    close();
  }

  unsigned request_version() const {
    auto v = parser_ ? parser_->get().version() : 11u;
    return v == 10 ? 10 : 11;
  }

  std::uint64_t begin_exchange() {
    exchange_open_ = true;
    answered_ = false;
    st_->in_flight.fetch_add(1);
    return ++tag_;
  }

  void end_exchange() {
    if (exchange_open_) {
      exchange_open_ = false;
      st_->exchange_done();
    }
  }

  /// Answers the server's own errors; the connection closes afterwards because the rest of the
  /// stream cannot be trusted. With `header_read`, the answer reports the request's id and target.
  void fail_request(beast_http::status status, const char* reason, bool header_read = false) {
    auto version = request_version();
    auto err = server_error{status, reason, version, {}, {}};
    if (header_read && parser_) {
      const auto& req = parser_->get();
      auto sent = req["X-Request-ID"];
      err.sent_request_id.assign(sent.data(), sent.size());
      err.target.assign(req.target().data(), req.target().size());
    }
    auto tag = begin_exchange();
    phase_ = phase::handling;
    keep_alive_ = false;
    is_head_ = false;
    version_ = version;
    deliver(tag, st_->make_error(err));
  }

  void on_request() {
    auto tag = begin_exchange();
    phase_ = phase::handling;
    keep_alive_ = parser_->keep_alive();
    version_ = request_version();
    is_head_ = parser_->get().method() == beast_http::verb::head;
    auto err = server_error{
      beast_http::status::internal_server_error, "internal server error", version_, {}, {}};
    {
      const auto& req = parser_->get();
      auto sent = req["X-Request-ID"];
      err.sent_request_id.assign(sent.data(), sent.size());
      err.target.assign(req.target().data(), req.target().size());
    }
    try {
      st_->on_request(parser_->release(), ctx_, responder{shared_from_this(), tag});
    } catch (const std::exception& ex) {
      log()->error("request handler threw: {}", ex.what());
      deliver(tag, st_->make_error(err));
    } catch (...) {
      log()->error("request handler threw a non-standard exception");
      deliver(tag, st_->make_error(err));
    }
  }

  bool claim(std::uint64_t tag) {
    if (tag != tag_ || answered_ || phase_ != phase::handling) return false;
    answered_ = true;
    return true;
  }

  bool wants_close(const beast_http::fields& fields) const {
    auto it = fields.find(beast_http::field::connection);
    return it != fields.end() && beast_http::token_list{it->value()}.exists("close");
  }

  void deliver(std::uint64_t tag, response&& res) {
    if (!claim(tag)) return;
    res_.emplace(std::move(res));
    auto& out = *res_;
    auto keep_alive = keep_alive_ && !st_->draining.load() && !wants_close(out);
    out.version(version_);
    out.keep_alive(keep_alive);
    auto status = out.result_int();
    if (status < 200 || status == 204 || status == 304) out.body().clear();
    try {
      out.prepare_payload();
    } catch (const std::exception&) {
      // Only reachable for a body on a bodiless status, which was cleared above.
      out.body().clear();
    }
    if (is_head_) out.body().clear(); // Content-Length still tells the size a GET would have
    phase_ = phase::writing;
    stream_.expires_after(st_->cfg.write_timeout);
    beast_http::async_write(stream_, out, [self = shared_from_this()](error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(error_code ec) {
    end_exchange();
    if (ec) return close();
    auto keep_alive = res_->keep_alive();
    res_.reset();
    if (!keep_alive) return shutdown_gracefully();
    do_read_request();
  }

  /// Half-closes and discards what the peer still sends for a moment, so that it reads our
  /// last response instead of a reset caused by unread data.
  void shutdown_gracefully() {
    phase_ = phase::closing;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    start_discard();
  }

  void start_discard() {
    stream_.expires_after(
      std::min<std::chrono::milliseconds>(st_->cfg.header_timeout, std::chrono::seconds{2}));
    do_discard();
  }

  void do_discard() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, std::size_t) {
                              if (ec || self->phase_ != phase::closing) return self->close();
                              self->do_discard();
                            });
  }

  // -- streaming ----------------------------------------------------------------------------------

  friend class session_stream;

  void start_stream(std::uint64_t tag, response&& head, const std::shared_ptr<session_stream>& w);
  void on_stream_header(error_code ec);
  void do_monitor();
  void stream_write(std::string data);
  void stream_end();
  void pump_stream();
  void stream_closed();

  static constexpr std::size_t read_chunk = 4096;

  std::shared_ptr<shared_state> st_;
  strand_type strand_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  std::optional<response> res_;
  request_context ctx_;
  phase phase_ = phase::reading;
  std::uint64_t tag_ = 0;
  bool exchange_open_ = false;
  bool answered_ = false;
  bool keep_alive_ = false;
  bool is_head_ = false;
  unsigned version_ = 11;
  std::array<char, 512> scratch_{};
  // Streaming state.
  std::weak_ptr<session_stream> writer_;
  std::optional<beast_http::response<beast_http::empty_body>> stream_head_;
  std::optional<beast_http::response_serializer<beast_http::empty_body>> stream_sr_;
  std::deque<std::string> chunks_;
  bool stream_started_ = false;
  bool stream_writing_ = false;
  bool stream_end_requested_ = false;
  std::atomic<bool> slot_released_{false};
};

/// The writer handed to a handler that took over its connection.
class session_stream final : public stream_writer {
public:
  explicit session_stream(std::shared_ptr<session> s) : session_(std::move(s)) {
    // nop
  }

  ~session_stream() override {
    // A handler that drops its writer ends the stream rather than leaving the peer hanging.
    close();
  }

  bool write(std::string data) override {
    if (!open_.load()) return false;
    if (!data.empty()) {
      queued_.fetch_add(data.size());
      session_->post_stream_write(std::move(data));
    }
    return true;
  }

  std::size_t queued_bytes() const noexcept override { return queued_.load(); }

  /// Called by the session when `n` bytes went out.
  void mark_sent(std::size_t n) noexcept { queued_.fetch_sub(n); }

  void close() override {
    if (open_.exchange(false)) session_->post_stream_end();
  }

  bool is_open() const noexcept override { return open_.load(); }

  void on_close(std::function<void()> f) override {
    {
      std::lock_guard guard{mtx_};
      if (!ended_) {
        callbacks_.push_back(std::move(f));
        return;
      }
    }
    f();
  }

  /// Called by the session when the stream is over.
  void mark_ended() {
    open_.store(false);
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard guard{mtx_};
      if (ended_) return;
      ended_ = true;
      callbacks.swap(callbacks_);
    }
    for (auto& f : callbacks) f();
  }

private:
  std::shared_ptr<session> session_;
  std::atomic<bool> open_{true};
  std::atomic<std::size_t> queued_{0};
  std::mutex mtx_;
  bool ended_ = false;
  std::vector<std::function<void()>> callbacks_;
};

std::shared_ptr<stream_writer> session::open_stream(std::uint64_t tag, response&& head) {
  auto writer = std::make_shared<session_stream>(shared_from_this());
  run_on_strand([self = shared_from_this(), tag, head = std::move(head), writer]() mutable {
    self->start_stream(tag, std::move(head), writer);
  });
  return writer;
}

void session::start_stream(std::uint64_t tag, response&& head,
                           const std::shared_ptr<session_stream>& writer) {
  if (!claim(tag)) return writer->mark_ended();
  phase_ = phase::streaming;
  writer_ = writer;
  chunks_.clear();
  stream_started_ = false;
  stream_writing_ = false;
  stream_end_requested_ = false;
  stream_head_.emplace(std::move(head.base()));
  auto& out = *stream_head_;
  out.version(version_);
  // A stream has no natural end the client could know about, so it owns the connection.
  out.keep_alive(false);
  out.chunked(true);
  stream_sr_.emplace(out);
  stream_.expires_after(st_->cfg.write_timeout);
  beast_http::async_write_header(
    stream_, *stream_sr_,
    [self = shared_from_this()](error_code ec, std::size_t) { self->on_stream_header(ec); });
}

void session::on_stream_header(error_code ec) {
  if (ec || phase_ != phase::streaming) return close();
  stream_started_ = true;
  // The peer sends nothing while it listens; a read completes only when it goes away.
  stream_.expires_never();
  do_monitor();
  pump_stream();
}

void session::do_monitor() {
  stream_.async_read_some(net::buffer(scratch_),
                          [self = shared_from_this()](error_code ec, std::size_t) {
                            if (self->phase_ == phase::closing)
                              return self->start_discard(); // cancelled by the stream's end
                            if (self->phase_ != phase::streaming) return;
                            if (ec) return self->close();
                            self->do_monitor();
                          });
}

void session::stream_write(std::string data) {
  if (phase_ != phase::streaming || stream_end_requested_) return;
  chunks_.push_back(std::move(data));
  pump_stream();
}

void session::stream_end() {
  if (phase_ != phase::streaming) return;
  stream_end_requested_ = true;
  pump_stream();
}

void session::pump_stream() {
  if (!stream_started_ || stream_writing_ || phase_ != phase::streaming) return;
  if (!chunks_.empty()) {
    stream_writing_ = true;
    stream_.expires_after(st_->cfg.write_timeout);
    net::async_write(stream_, beast_http::make_chunk(net::buffer(chunks_.front())),
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       self->stream_writing_ = false;
                       // The monitoring read may have closed the session (the peer left)
                       // while this completion was queued: `chunks_` is empty by now.
                       if (self->phase_ != phase::streaming) return;
                       if (ec) return self->close();
                       if (auto writer = self->writer_.lock())
                         writer->mark_sent(self->chunks_.front().size());
                       self->chunks_.pop_front();
                       self->pump_stream();
                     });
  } else if (stream_end_requested_) {
    stream_writing_ = true;
    stream_.expires_after(st_->cfg.write_timeout);
    net::async_write(stream_, beast_http::make_chunk_last(),
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       self->stream_writing_ = false;
                       if (self->phase_ != phase::streaming) return; // closed meanwhile
                       if (ec) return self->close();                 // which ends the stream
                       self->stream_closed();
                       // The monitoring read is still pending: cancel it, and let its handler
                       // start the discarding read with a deadline.
                       self->phase_ = phase::closing;
                       error_code ignored;
                       self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                       self->stream_.socket().cancel(ignored);
                     });
  }
}

void session::stream_closed() {
  chunks_.clear();
  stream_sr_.reset();
  stream_head_.reset();
  end_exchange();
  if (auto writer = writer_.lock()) writer->mark_ended();
  writer_.reset();
}

void session::close() {
  if (phase_ == phase::closed) return;
  auto was_streaming = phase_ == phase::streaming;
  phase_ = phase::closed;
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  if (was_streaming) stream_closed();
  end_exchange();
  parser_.reset();
  release_slot();
}

} // namespace

// -- server ---------------------------------------------------------------------------------------

namespace {

/// Answers a connection over `max_connections` and closes it, without a session, a timer or a
/// read: the 503 fits in the socket's empty send buffer, so one non-blocking write delivers it.
template <class Socket>
void refuse(shared_state* state, Socket& sock) {
  // Counted before the client can see the answer, so whoever reads the 503 finds it counted.
  if (state->cfg.on_connection_refused) {
    try {
      state->cfg.on_connection_refused();
    } catch (const std::exception& ex) {
      log()->error("on_connection_refused threw: {}", ex.what());
    }
  }
  auto res = state->make_error(server_error{
    beast_http::status::service_unavailable, "too many connections; retry later", 11, {}, {}});
  if (res.find(beast_http::field::retry_after) == res.end())
    res.set(beast_http::field::retry_after, "1");
  res.keep_alive(false);
  res.prepare_payload();
  std::ostringstream out;
  out << res;
  auto bytes = out.str();
  error_code ignored;
  sock.non_blocking(true, ignored);
  sock.write_some(net::buffer(bytes), ignored);
  // Unread request bytes would turn our close into a reset that can destroy the 503 in the
  // client's receive queue: drop what already arrived first.
  std::array<char, 4096> sink{};
  for (int i = 0; i < 16; ++i) {
    auto n = sock.read_some(net::buffer(sink), ignored);
    if (ignored || n == 0) break;
  }
  sock.shutdown(tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

void accept_on(shared_state* state) {
  auto strand = net::make_strand(state->ioc);
  state->acceptor.async_accept(strand, [state, strand](error_code ec, auto sock) mutable {
    if (ec == net::error::operation_aborted || !state->acceptor.is_open()) return;
    if (ec) {
      // Typically EMFILE: back off briefly instead of spinning on the error.
      log()->warn("accept failed: {}", ec.message());
      state->retry_timer.expires_after(std::chrono::milliseconds{50});
      state->retry_timer.async_wait([state](error_code tec) {
        if (!tec && state->acceptor.is_open()) accept_on(state);
      });
      return;
    }
    error_code ignored;
    if (state->draining.load()) {
      sock.close(ignored);
      return;
    }
    if (state->connections.load() >= state->cfg.max_connections) {
      refuse(state, sock);
      return accept_on(state);
    }
    sock.set_option(tcp::no_delay{true}, ignored);
    auto remote = sock.remote_endpoint(ignored).address().to_string();
    auto s = std::make_shared<session>(state->shared_from_this(), std::move(strand),
                                       tcp::socket{std::move(sock)}, std::move(remote));
    state->add_session(s);
    s->start();
    accept_on(state);
  });
}

} // namespace

struct server::impl {
  std::shared_ptr<shared_state> st;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

server::server(server_config cfg, handler h) : impl_(std::make_unique<impl>()) {
  impl_->st = std::make_shared<shared_state>(std::move(cfg), std::move(h));
}

server::~server() {
  stop(std::chrono::milliseconds{0});
}

void server::start() {
  auto& d = *impl_;
  if (d.started) return;
  auto& st = *d.st;
  tcp::resolver resolver{st.ioc};
  // Throws system_error for an unknown host, like bind does for a taken port.
  auto endpoints = resolver.resolve(st.cfg.host, std::to_string(st.cfg.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
  auto endpoint = endpoints.begin()->endpoint();
  st.acceptor.open(endpoint.protocol());
  st.acceptor.set_option(net::socket_base::reuse_address{true});
  st.acceptor.bind(endpoint);
  st.acceptor.listen(net::socket_base::max_listen_connections);
  d.port = st.acceptor.local_endpoint().port();
  d.started = true;
  d.work.emplace(st.ioc.get_executor());
  net::post(st.acceptor.get_executor(), [state = d.st.get()] { accept_on(state); });
  auto workers = std::max(1, st.cfg.workers);
  d.threads.reserve(static_cast<std::size_t>(workers));
  for (int i = 0; i < workers; ++i)
    d.threads.emplace_back([state = d.st.get()] {
      for (;;) {
        try {
          state->ioc.run();
          return;
        } catch (const std::exception& ex) {
          // A throwing completion handler is a bug; keep serving the other connections.
          log()->error("I/O thread caught: {}", ex.what());
        }
      }
    });
}

uint16_t server::port() const noexcept {
  return impl_->port;
}

std::size_t server::in_flight() const noexcept {
  return impl_->st->in_flight.load();
}

std::size_t server::connections() const noexcept {
  return impl_->st->connections.load();
}

void server::stop(std::chrono::milliseconds drain) {
  auto& d = *impl_;
  if (!d.started || d.stopped) return;
  d.stopped = true;
  auto& st = *d.st;
  st.draining.store(true);
  net::post(st.acceptor.get_executor(), [state = d.st.get()] {
    error_code ignored;
    state->acceptor.close(ignored);
    state->retry_timer.cancel();
  });
  for (auto& s : st.live_sessions()) s->run_on_strand([s] { s->begin_drain(); });
  {
    std::unique_lock guard{st.drain_mtx};
    st.drain_cv.wait_for(guard, drain, [&st] { return st.in_flight.load() == 0; });
  }
  for (auto& s : st.live_sessions()) s->run_on_strand([s] { s->close(); });
  d.work.reset();
  for (auto& t : d.threads) t.join();
  d.threads.clear();
  // From here on, late responders do nothing; run what was posted before they noticed.
  st.stopped.store(true);
  while (st.posting.load() != 0) std::this_thread::yield();
  st.ioc.restart();
  st.ioc.poll();
}

} // namespace orch::http
