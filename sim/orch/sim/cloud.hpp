#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orch::sim {

/// Wall-clock time as the simulator sees it; injected so that tests control it.
using time_point = std::chrono::system_clock::time_point;

/// One HTTP request, already split into its parts (no I/O types, so unit tests build it by hand).
struct request {
  /// Upper-case method, e.g. `GET`.
  std::string method;
  /// Path without the query string, still percent-encoded.
  std::string path;
  /// Raw query string without the leading `?`.
  std::string query;
  /// Header fields; names are compared case-insensitively.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first value of header `name` (case-insensitive), or an empty view.
  std::string_view header(std::string_view name) const noexcept;
};

/// The simulator's answer, plus what the transport should do besides sending it.
struct response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Time the transport must wait before sending (the `--latency` knob and latency faults).
  std::chrono::milliseconds delay{0};
  /// Close the connection without answering (a "drop" fault).
  bool drop_connection = false;

  /// The first value of header `name` (case-insensitive), or an empty view.
  std::string_view header(std::string_view name) const noexcept;
};

/// A distribution of durations, written `fixed:<d>` or `uniform:<d>..<d>` where `<d>` is a
/// number with unit `ms`, `s` or `m` (a bare `0` is allowed), or `never`.
struct duration_dist {
  std::chrono::milliseconds low{0};
  std::chrono::milliseconds high{0};
  /// The transition never happens (to test client timeouts).
  bool never = false;

  /// Parses the textual form; `nullopt` if malformed.
  static std::optional<duration_dist> parse(std::string_view text);
};

/// Parses a duration such as `250ms`, `3s`, `2m`, `1h` or `0`; `nullopt` if malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// An account Keystone accepts: password auth scoped to `project` in `domain`.
struct user_account {
  std::string name = "admin";
  std::string password = "secret";
  std::string project = "admin";
  std::string domain = "Default";

  /// Parses `name:password[:project[:domain]]`; `nullopt` if malformed.
  static std::optional<user_account> parse(std::string_view text);
};

/// Per-project limits; exceeding one gives the owning service's quota error.
struct quota_limits {
  int instances = 10;
  int cores = 20;
  int ram_mb = 51200;
  int volumes = 10;
  int gigabytes = 1000;
  int networks = 100;
};

/// Everything that shapes a simulated cloud.
struct cloud_config {
  /// Scheme, host and port the catalog points at, e.g. `http://127.0.0.1:5000`.
  std::string base_url = "http://127.0.0.1:5000";
  /// Seeds every generated id, token and random draw.
  uint64_t seed = 1;
  std::vector<user_account> users{user_account{}};
  /// Time a server takes from BUILD to ACTIVE (also used for resize, rebuild and volumes).
  duration_dist boot_time;
  /// Time a deletion takes before the object is gone (404).
  duration_dist delete_time;
  std::chrono::seconds token_ttl{3600};
  quota_limits quotas;
  /// Latency added to every call.
  std::chrono::milliseconds latency{0};
};

/// A server as `--ssh-backing` serves it: ACTIVE, reachable at its fixed addresses.
struct active_server {
  std::string id;
  /// Fixed IPv4 addresses of its ports.
  std::vector<std::string> addresses;
  /// OpenSSH public key of its keypair (`key_name`); empty without one.
  std::string public_key;

  friend bool operator==(const active_server&, const active_server&) = default;
};

/// An in-memory OpenStack cloud: Keystone v3, Nova 2.1, Neutron v2.0, Cinder v3, Glance v2 and
/// the `/_sim` control API, answering like the real services on the wire. Not thread-safe:
/// the transport serialises calls.
class cloud {
public:
  explicit cloud(cloud_config cfg);
  ~cloud();

  cloud(const cloud&) = delete;
  cloud& operator=(const cloud&) = delete;

  /// Answers one request at time `now`. Asynchronous transitions due at or before `now` are
  /// applied first, so a test moves time only through this argument. Never throws for bad
  /// input: that is a 4xx answer.
  response handle(const request& req, time_point now);

  /// Changes the URL the catalog and links point at (once the listening port is known).
  void set_base_url(std::string url);

  /// The configuration in effect.
  const cloud_config& config() const noexcept;

  /// The whole state as JSON (what `GET /_sim/state` answers).
  std::string dump_state(time_point now);

  /// Every server ACTIVE at `now`, sorted by id (transitions due at `now` are applied first).
  std::vector<active_server> active_servers(time_point now);

  /// A snapshot of the internal state for `--state-file` (not an API shape).
  std::string save_state() const;

  /// Restores a snapshot written by `save_state`. Users and projects keep coming from the
  /// configuration (tokens of vanished users are dropped). On error the cloud is reset to its
  /// initial state and the reason returned.
  std::optional<std::string> load_state(std::string_view snapshot);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orch::sim
