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

/// Delivers the answer to one request. Call it exactly once, from any thread; the server posts
/// the write onto the connection's strand. Calling it after the connection died is harmless.
using responder = std::function<void(response)>;

/// What the server knows about a request besides its bytes.
struct request_context {
  /// Peer address as text (IPv4 or IPv6), for logs and rate limiting.
  std::string remote_address;
};

/// Handles one request. Must not block: long work goes to another executor and answers through
/// the responder later. Exceptions escaping it become a bare 500.
using handler = std::function<void(request&& req, const request_context& ctx, responder respond)>;

/// Settings of one HTTP listener.
struct server_config {
  std::string host = "127.0.0.1";
  /// 0 picks a free port; `server::port()` tells which.
  uint16_t port = 0;
  /// Threads running the I/O loop.
  int workers = 2;
  /// Largest request body accepted; a larger one is answered 413 and the connection closed.
  std::size_t max_body_bytes = 1024 * 1024;
  /// Time allowed to receive a whole request header once its first byte arrived.
  std::chrono::milliseconds header_timeout{10'000};
  /// Time allowed to receive the body once the header is complete.
  std::chrono::milliseconds body_timeout{30'000};
  /// Time a keep-alive connection may sit idle between requests.
  std::chrono::milliseconds idle_timeout{60'000};
  /// Answers to produce for the server's own errors (413, 400 on an unparsable request):
  /// given the status and a short reason, return the response to send. Defaults to plain text.
  std::function<response(beast_http::status, const std::string& reason, unsigned version)>
    error_response;
};

/// An asynchronous Boost.Beast HTTP/1.1 server: keep-alive, pipelined requests answered in
/// order, per-phase read timeouts, a body limit, and a graceful drain on stop.
class server {
public:
  server(server_config cfg, handler h);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts `workers` I/O threads. Throws `std::system_error` if the address is taken.
  void start();

  /// The bound port (after `start`).
  uint16_t port() const noexcept;

  /// Stops accepting, lets in-flight requests finish for at most `drain`, then closes every
  /// connection and joins the I/O threads. Idempotent.
  void stop(std::chrono::milliseconds drain = std::chrono::milliseconds{5'000});

  /// Requests read whose response has not been fully written yet.
  std::size_t in_flight() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orch::http
