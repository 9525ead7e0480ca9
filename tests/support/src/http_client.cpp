#include "orch/testing/http_client.hpp"

#include <limits>
#include <optional>
#include <stdexcept>
#include <system_error>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace orch::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

/// Runs the asynchronous operation started on `ioc` until it completes or `timeout` passes;
/// on timeout, cancels it (closing `sock`) and throws.
void run_for(net::io_context& ioc, tcp::socket& sock, std::chrono::milliseconds timeout,
             const bool& done, const char* what) {
  ioc.restart();
  ioc.run_for(timeout);
  if (done) return;
  error_code ignored;
  sock.close(ignored);
  ioc.restart();
  ioc.run();
  throw std::runtime_error{std::string{"timeout: "} + what};
}

void connect(net::io_context& ioc, tcp::socket& sock, const std::string& host, uint16_t port) {
  tcp::resolver resolver{ioc};
  net::connect(sock, resolver.resolve(host, std::to_string(port)));
  sock.set_option(tcp::no_delay{true});
}

} // namespace

// -- http_client ----------------------------------------------------------------------------------

struct http_client::impl {
  net::io_context ioc;
  tcp::socket sock{ioc};
  beast::flat_buffer buffer;
  std::string host;
  std::chrono::milliseconds timeout;
  bool open = true;
};

http_client::http_client(const std::string& host, uint16_t port, std::chrono::milliseconds timeout)
  : impl_(std::make_unique<impl>()) {
  impl_->host = host + ":" + std::to_string(port);
  impl_->timeout = timeout;
  connect(impl_->ioc, impl_->sock, host, port);
}

http_client::~http_client() = default;

http_response http_client::request(bhttp::verb method, std::string_view target, std::string body,
                                   const header_list& headers) {
  auto& d = *impl_;
  bhttp::request<bhttp::string_body> req{method, beast::string_view{target.data(), target.size()},
                                         11};
  req.set(bhttp::field::host, d.host);
  auto has_content_type = false;
  for (auto& [name, value] : headers) {
    req.insert(name, value);
    has_content_type = has_content_type || beast::iequals(name, "Content-Type");
  }
  if (!body.empty() && !has_content_type) req.set(bhttp::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  auto done = false;
  error_code write_ec;
  bhttp::async_write(d.sock, req, [&](error_code ec, std::size_t) {
    write_ec = ec;
    done = true;
  });
  run_for(d.ioc, d.sock, d.timeout, done, "writing the request");
  if (write_ec) throw std::system_error{write_ec, "writing the request"};
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (method == bhttp::verb::head) parser.skip(true);
  done = false;
  error_code read_ec;
  bhttp::async_read(d.sock, d.buffer, parser, [&](error_code ec, std::size_t) {
    read_ec = ec;
    done = true;
  });
  run_for(d.ioc, d.sock, d.timeout, done, "reading the response");
  if (read_ec) {
    d.open = false;
    throw std::system_error{read_ec, "reading the response"};
  }
  auto res = parser.release();
  if (!res.keep_alive()) d.open = false;
  return res;
}

http_response http_client::get(std::string_view target, const header_list& headers) {
  return request(bhttp::verb::get, target, {}, headers);
}

bool http_client::is_open() const noexcept {
  return impl_->open;
}

// -- raw_socket -----------------------------------------------------------------------------------

struct raw_socket::impl {
  net::io_context ioc;
  tcp::socket sock{ioc};
  std::string received;
  bool closed = false;

  /// Reads once; returns false (and leaves `done` unset) if nothing came within `timeout`.
  bool read_once(std::chrono::milliseconds timeout) {
    char buf[4096];
    auto done = false;
    ioc.restart();
    sock.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t n) {
      if (ec == net::error::operation_aborted) return; // our own timeout below
      done = true;
      if (ec)
        closed = true;
      else
        received.append(buf, n);
    });
    ioc.run_for(timeout);
    if (done) return true;
    sock.cancel();
    ioc.restart();
    ioc.run();
    return done;
  }
};

raw_socket::raw_socket(const std::string& host, uint16_t port) : impl_(std::make_unique<impl>()) {
  connect(impl_->ioc, impl_->sock, host, port);
}

raw_socket::~raw_socket() = default;

void raw_socket::send(std::string_view bytes) {
  net::write(impl_->sock, net::buffer(bytes.data(), bytes.size()));
}

std::string raw_socket::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (d.received.find(needle) == std::string::npos) {
    if (d.closed) throw std::runtime_error{"peer closed before sending: " + std::string{needle}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !d.read_once(left))
      throw std::runtime_error{"timeout waiting for: " + std::string{needle}};
  }
  return d.received;
}

std::string raw_socket::read_until_close(std::chrono::milliseconds timeout) {
  if (!wait_closed(timeout)) throw std::runtime_error{"timeout waiting for the peer to close"};
  return impl_->received;
}

bool raw_socket::wait_closed(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!d.closed) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !d.read_once(left)) return false;
  }
  return true;
}

const std::string& raw_socket::received() const noexcept {
  return impl_->received;
}

} // namespace orch::testing
