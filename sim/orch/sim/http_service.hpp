#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "orch/http/server.hpp"
#include "orch/sim/cloud.hpp"
#include "orch/sim/ssh_backing.hpp"

namespace orch::sim {

/// Converts a Beast request into the engine's request type.
request from_beast(const http::request& req);

/// Converts the engine's answer into a Beast response for a request of HTTP `version`.
http::response to_beast(response&& res, unsigned version, bool keep_alive, bool head);

/// How an `http_service` presents and keeps its cloud.
struct service_options {
  /// URL the catalog points at; empty means `http://<host>:<bound port>` (loopback for a
  /// wildcard host).
  std::string public_url;
  /// File the state is loaded from at start (if it exists) and saved to: once a second while
  /// calls change it, and at stop. Empty keeps the state in memory only.
  std::string state_file;
  /// Serve every ACTIVE server's fixed loopback addresses over real SSH (`--ssh-backing`);
  /// unset serves none.
  std::optional<ssh_backing_config> ssh_backing;
};

/// A `cloud` served over HTTP by `orch::http::server`: calls are serialised by a mutex, delays
/// (latency knobs and faults) are served by a timer thread so I/O threads never sleep.
class http_service {
public:
  /// `server_cfg.host` and `port` choose the listener.
  http_service(cloud_config cfg, http::server_config server_cfg, service_options opts = {});
  ~http_service();

  http_service(const http_service&) = delete;
  http_service& operator=(const http_service&) = delete;

  /// Loads the state file (if any), binds and starts serving. Throws `std::system_error` if the
  /// address is taken and `std::runtime_error` if the state file cannot be read or the SSH
  /// backing cannot start.
  void start();

  /// Stops serving and saves the state file (idempotent).
  void stop();

  /// Writes the state file now (no-op without one). Throws `std::runtime_error` on I/O errors.
  void save();

  /// The bound port (after `start`).
  uint16_t port() const noexcept;

  /// The URL the catalog points at, e.g. `http://127.0.0.1:40123`.
  std::string url() const;

  /// Runs `fn` on the engine under the service's lock (for state files and tests).
  void with_cloud(const std::function<void(cloud&)>& fn);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orch::sim
