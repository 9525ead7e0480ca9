#pragma once

// Small servers for transport tests: a scripted plain HTTP server that misbehaves on purpose,
// and a TLS server with a certificate made by the test.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

namespace orch::openstack::testing {

/// Reads one HTTP request (header and `Content-Length` body) from `sock`; empty if the peer
/// closed first.
std::string read_request(boost::asio::ip::tcp::socket& sock, std::string& buffer);

/// A keep-alive `200` with body `body`.
std::string ok_response(const std::string& body);

/// Accepts connections on 127.0.0.1:0 in its own thread and hands each, with its index
/// (0, 1, ...), to `behaviour`, one connection after the other.
class scripted_server {
public:
  using behaviour_fn = std::function<void(boost::asio::ip::tcp::socket&, int index)>;

  explicit scripted_server(behaviour_fn behaviour);
  ~scripted_server();

  uint16_t port() const { return port_; }

  /// Connections accepted so far.
  int accepted() const { return accepted_.load(); }

private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  behaviour_fn behaviour_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

/// A self-signed certificate and key in PEM, made with OpenSSL's C API.
struct test_certificate {
  std::string cert_pem;
  std::string key_pem;
};

/// A certificate for `dns_names` and `ip_addresses` (subjectAltName), valid for a day.
test_certificate make_certificate(const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ip_addresses);

/// Writes `text` to a new file under /tmp and returns its path.
std::string write_temp_file(const std::string& name, const std::string& text);

/// Serves `ok` over TLS with `cert` on 127.0.0.1:0, one connection at a time.
class tls_server {
public:
  explicit tls_server(const test_certificate& cert);
  ~tls_server();

  uint16_t port() const { return port_; }

private:
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace orch::openstack::testing
