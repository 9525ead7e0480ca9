#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace orch::testing {

/// A response as the test client reads it.
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Extra request header fields, in order.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// A small blocking HTTP/1.1 client over one keep-alive connection, for tests. Every call gives
/// up after `timeout` and throws `std::runtime_error`, so a broken server fails a test instead of
/// hanging it.
class http_client {
public:
  /// Connects to `host:port`; throws `std::system_error` if nobody listens.
  http_client(const std::string& host, uint16_t port,
              std::chrono::milliseconds timeout = std::chrono::seconds{5});
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends one request and reads its response. Sets `Host`, `Content-Length` and, for a
  /// non-empty body without a `Content-Type` in `headers`, `application/json`.
  http_response request(boost::beast::http::verb method, std::string_view target,
                        std::string body = {}, const header_list& headers = {});

  /// Shorthand for a GET.
  http_response get(std::string_view target, const header_list& headers = {});

  /// `false` once the server closed the connection (noticed by the last request).
  bool is_open() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A raw TCP connection for what a well-behaved client never does: pipelining, trickling,
/// garbage. Reads give up after their timeout and throw `std::runtime_error`.
class raw_socket {
public:
  /// Connects to `host:port`; throws `std::system_error` if nobody listens.
  raw_socket(const std::string& host, uint16_t port);
  ~raw_socket();

  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  /// Writes all of `bytes`; throws `std::system_error` if the peer is gone.
  void send(std::string_view bytes);

  /// Reads until `needle` appears in everything received so far (which it returns), or throws
  /// when the peer closes or `timeout` passes first.
  std::string read_until(std::string_view needle,
                         std::chrono::milliseconds timeout = std::chrono::seconds{5});

  /// Reads until the peer closes and returns everything received; throws on timeout.
  std::string read_until_close(std::chrono::milliseconds timeout = std::chrono::seconds{5});

  /// `true` if the peer closes within `timeout` (reading whatever it sends meanwhile).
  bool wait_closed(std::chrono::milliseconds timeout);

  /// Everything received so far.
  const std::string& received() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orch::testing
