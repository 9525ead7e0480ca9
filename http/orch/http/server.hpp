#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace orch::http {

namespace beast_http = boost::beast::http;

/// A complete HTTP/1.1 request as read from the wire (body already bounded by the server).
using request = beast_http::request<beast_http::string_body>;

/// A complete HTTP/1.1 response.
using response = beast_http::response<beast_http::string_body>;

/// The sending end of a streamed response (e.g. Server-Sent Events). Thread-safe: every member
/// may be called from any thread. The server sends the body chunked and closes the connection
/// after the last chunk.
class stream_writer {
public:
  virtual ~stream_writer() = default;

  /// Queues `data` as the next chunk. Returns `false`, and drops `data`, once the stream is
  /// closed (by `close`, by the peer, or by the server stopping). An empty `data` is ignored.
  virtual bool write(std::string data) = 0;

  /// Ends the stream after the chunks queued so far. Idempotent.
  virtual void close() = 0;

  /// `false` once `close` was called or the connection went away.
  virtual bool is_open() const noexcept = 0;

  /// Bytes written but not yet sent to the peer: a client that stops reading makes it grow. A
  /// writer without a socket (a buffer, a test double) holds nothing back and says 0.
  virtual std::size_t queued_bytes() const noexcept { return 0; }

  /// Calls `f` once when the stream ends for any reason (immediately if it already has). `f`
  /// runs on an I/O thread or the caller's and must not block; use it to unsubscribe.
  virtual void on_close(std::function<void()> f) = 0;
};

/// Where a `responder` delivers: the server's connection, or a test double.
class response_sink {
public:
  virtual ~response_sink() = default;

  /// Delivers the complete answer to the exchange `tag`; later calls for the same tag are
  /// ignored.
  virtual void send(std::uint64_t tag, response&& res) = 0;

  /// Sends `head` (its body is ignored) and returns the writer for the body of exchange `tag`.
  virtual std::shared_ptr<stream_writer> open_stream(std::uint64_t tag, response&& head) = 0;

  /// Closes the connection of exchange `tag` without answering it, as a crashed or
  /// misbehaving peer would (the simulator's dropped-connection faults). Default: nothing.
  virtual void abort(std::uint64_t tag) { (void)tag; }
};

/// Delivers the answer to one request. Call it exactly once (either `operator()` or `stream`),
/// from any thread; the server posts the write onto the connection's strand. Calls after the
/// first one, or after the connection died, are harmless no-ops. Cheap to copy.
class responder {
public:
  /// Runs on the response just before it is handed to the sink (adds headers, records metrics).
  using hook = std::function<void(response&)>;

  /// A responder that drops everything.
  responder() = default;

  /// Delivers to `sink` as exchange `tag`.
  responder(std::shared_ptr<response_sink> sink, std::uint64_t tag);

  /// Delivers to `fn`, for tests and adapters. A stream opened on it is buffered: `fn` receives
  /// the head with every chunk as its body once the stream is closed.
  explicit responder(std::function<void(response)> fn);

  /// Sends the complete response `res`.
  void operator()(response res) const;

  /// Closes the connection without any answer; the client sees the connection end.
  void abort() const;

  /// Takes over the connection for a streamed body: sends `head` (status and headers; use
  /// `Content-Type: text/event-stream` for SSE) and returns the writer for the body.
  std::shared_ptr<stream_writer> stream(response head) const;

  /// A copy that runs `h` on the response (or stream head) before the hooks of this one.
  responder with_hook(hook h) const;

private:
  struct hook_node;

  void run_hooks(response& res) const;

  std::shared_ptr<response_sink> sink_;
  std::uint64_t tag_ = 0;
  std::shared_ptr<const hook_node> hooks_;
};

/// What the server and the middleware know about a request besides its bytes.
struct request_context {
  /// Peer address as text (IPv4 or IPv6), for logs and rate limiting.
  std::string remote_address;
  /// Set by the gateway: the request's id (echoed or generated), as in `X-Request-ID`.
  std::string request_id;
  /// Set by the gateway's authentication: a non-secret name of the caller's key (empty when
  /// the route is open), for logs and rate limiting.
  std::string principal;
  /// Set by the gateway's authentication: whether the caller's key allows mutating routes.
  bool can_write = false;
};

/// Handles one request. Must not block: long work goes to another executor and answers through
/// the responder later. Exceptions escaping it become a bare 500.
using handler = std::function<void(request&& req, const request_context& ctx, responder respond)>;

/// A request the server answers itself, before any handler sees it (413, 431, 400, 503 over
/// the connection limit, 500 when the handler throws).
struct server_error {
  beast_http::status status = beast_http::status::bad_request;
  /// A short reason for the client; never internals.
  std::string reason;
  /// HTTP version of the request (10 or 11).
  unsigned version = 11;
  /// The client's `X-Request-ID`, or empty when it sent none or its header was never read.
  std::string sent_request_id;
  /// The request target when the header was read, else empty.
  std::string target;
};

/// Settings of one HTTP listener.
struct server_config {
  std::string host = "127.0.0.1";
  /// 0 picks a free port; `server::port()` tells which.
  uint16_t port = 0;
  /// Threads running the I/O loop.
  int workers = 2;
  /// Largest request body accepted; a larger one is answered 413 and the connection closed.
  std::size_t max_body_bytes = 1024 * 1024;
  /// Largest request line plus header fields; a larger one is answered 431 and closed.
  std::uint32_t max_header_bytes = 16 * 1024;
  /// Time allowed to receive a whole request header once its first byte arrived.
  std::chrono::milliseconds header_timeout{10'000};
  /// Time allowed to receive the body once the header is complete.
  std::chrono::milliseconds body_timeout{30'000};
  /// Time a keep-alive connection may sit idle between requests.
  std::chrono::milliseconds idle_timeout{60'000};
  /// Time allowed to write one response (or one chunk of a stream) to a slow reader.
  std::chrono::milliseconds write_timeout{30'000};
  /// Connections open at once. One more is answered 503 with `Retry-After` and closed at once,
  /// without being read, so that a flood costs no memory and no timer.
  std::size_t max_connections = 10'000;
  /// Called for each connection refused over `max_connections`, on an I/O thread; must not
  /// block (count it in a metric).
  std::function<void()> on_connection_refused;
  /// Answers to produce for the server's own errors (see `server_error`). Defaults to plain
  /// text.
  std::function<response(const server_error&)> error_response;
};

/// An asynchronous Boost.Beast HTTP/1.1 server: keep-alive, pipelined requests answered in
/// order, per-phase read timeouts, a body limit, streamed responses, and a graceful drain on
/// stop.
class server {
public:
  server(server_config cfg, handler h);

  /// Stops with no drain if still running.
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts `workers` I/O threads. Throws `std::system_error` if the address is taken
  /// or cannot be resolved.
  void start();

  /// The bound port (after `start`).
  uint16_t port() const noexcept;

  /// Stops accepting, closes idle connections, lets in-flight requests finish for at most
  /// `drain`, then closes every connection and joins the I/O threads. Idempotent. Must not be
  /// called from an I/O thread (a handler).
  void stop(std::chrono::milliseconds drain = std::chrono::milliseconds{5'000});

  /// Requests read whose response has not been fully written yet (open streams count).
  std::size_t in_flight() const noexcept;

  /// Connections open now (each counts until its socket is closed).
  std::size_t connections() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orch::http
