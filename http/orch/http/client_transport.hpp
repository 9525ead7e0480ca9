#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <caf/expected.hpp>

#include "orch/openstack/http_transport.hpp"

namespace orch {

struct openstack_config;

} // namespace orch

namespace orch::http {

/// Settings of a `client_transport`.
struct client_transport_config {
  /// PEM file of CAs trusted in addition to the system store (`OPENSTACK_CA_FILE`).
  std::string ca_file;
  /// PEM text of CAs trusted in addition to the system store (a region's CA stored with
  /// `orchestrator clouds add --ca-file`).
  std::string ca_pem;
  /// Skips certificate and host name verification (`OPENSTACK_INSECURE`); logs a warning.
  bool insecure = false;
  /// Open connections per endpoint (scheme, host, port) at most, idle ones included; further
  /// calls wait for a free connection in FIFO order.
  std::size_t max_connections_per_endpoint = 8;
  /// Upper bound for resolve + TCP connect + TLS handshake (the call's own timeout still
  /// applies when it is shorter).
  std::chrono::milliseconds connect_timeout{10'000};
  /// A pooled connection idle for longer is closed instead of reused, so that we rarely race
  /// a server closing it (servers commonly allow 60 s or more).
  std::chrono::milliseconds idle_timeout{30'000};
  /// Responses (header + body) larger than this end with `response_too_large`.
  std::size_t max_response_bytes = 32 * 1024 * 1024;
  std::string user_agent = "orch-openstack-client/1.0";
};

/// The transport settings `OPENSTACK_CA_FILE` and `OPENSTACK_INSECURE` describe; the rest
/// keeps its defaults.
client_transport_config make_transport_config(const orch::openstack_config& cfg);

/// The Beast HTTP/1.1 client behind the OpenStack client: implements its `http_transport`,
/// `timer` and `clock` ports over an Asio executor (a strand, or an `io_context` run by one
/// thread) that the caller owns and that also drives the `openstack::client`.
///
/// - `http://` and `https://`; TLS verifies the certificate chain (system store plus
///   `ca_file`) and the host name (SNI + `ssl::host_name_verification`) unless `insecure`.
/// - Keep-alive pool per endpoint, bounded by `max_connections_per_endpoint`; waiting calls
///   are served in FIFO order.
/// - `http_call::timeout` bounds the whole attempt (queueing, connect, send, receive). Failure
///   mapping, as the client's retry rules need it: anything before the request is written
///   (queue wait, resolve, connect, handshake, their timeouts) is `connect_failed`; a timeout
///   after writing began is `timeout`; a broken connection after writing began is
///   `connection_reset`; a response above `max_response_bytes` is `response_too_large`.
/// - Stale keep-alive connections: a pooled connection is checked (non-blocking peek) before
///   reuse and discarded when the server has closed it. If an exchange on a reused connection
///   still fails before the first response byte, it is repeated once on a fresh connection
///   when the method is idempotent (GET, HEAD, PUT, DELETE, OPTIONS): the server most likely
///   closed the idle connection while our request was on its way. A POST is not repeated,
///   since the server may have acted on it; it fails as described above.
/// - Logs no header, body, URL query or credential: only method, host and error text.
///
/// Threading: every member function must be called on the executor, and every callback runs
/// there. Destroy it on the executor (or after the executor stopped): pending callbacks and
/// timers are dropped without being called.
class client_transport : public openstack::http_transport,
                         public openstack::timer,
                         public openstack::clock {
public:
  /// Builds a transport; fails with `errc::invalid_config` if `ca_file` cannot be loaded.
  static caf::expected<std::unique_ptr<client_transport>> make(boost::asio::any_io_executor exec,
                                                               client_transport_config cfg);

  ~client_transport() override;

  client_transport(const client_transport&) = delete;
  client_transport& operator=(const client_transport&) = delete;

  void send(openstack::http_call call,
            std::function<void(openstack::transport_outcome)> done) override;

  void after(std::chrono::milliseconds delay, std::function<void()> fn) override;

  time_point now() const override;

  timestamp utc_now() const override;

  /// Connections currently open (idle or busy), over all endpoints.
  std::size_t open_connections() const;

  /// Calls waiting for a connection, over all endpoints.
  std::size_t queued_calls() const;

  /// Connections opened since construction (reuse shows as a small number).
  std::size_t connections_opened() const;

  struct impl;

private:
  explicit client_transport(std::shared_ptr<impl> ptr);

  std::shared_ptr<impl> impl_;
};

} // namespace orch::http
