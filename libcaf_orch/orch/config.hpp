#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <spdlog/common.h>

#include "orch/template_validation.hpp"

namespace orch {

/// Environment variables by name, as read by `apps/` from `environ` and `.env`.
using env_map = std::map<std::string, std::string>;

/// Parses the text of a `.env` file: `KEY=VALUE` lines, `#` comments, blank lines, an optional
/// leading `export `, and single- (literal) or double-quoted (with `\n`, `\"`, `\\` escapes)
/// values. An unquoted value ends at ` #`. Later lines override earlier ones. Each malformed
/// line adds one message naming its number (never its content, which may hold a secret) to
/// `errors` and is skipped.
env_map parse_dotenv(std::string_view text, std::vector<std::string>& errors);

/// What the process is started for; decides which settings are required.
enum class config_use {
  /// The API server and its actors: database, API keys and secret key are required.
  serve,
  /// Schema migrations: only the database is required.
  migrate,
  /// `orchestrator clouds`: the database and `SECRET_KEY` (plus `SECRET_KEY_PREVIOUS`).
  clouds,
};

/// Rights of an API key.
enum class api_scope : uint8_t {
  /// GET only.
  read,
  /// Every method.
  write,
};

/// Stable name of `x`: `read` or `write`.
std::string to_string(api_scope x);

/// One API key from `API_KEYS`.
struct api_key {
  std::string key;
  api_scope scope = api_scope::read;
};

/// PostgreSQL connection settings.
struct database_config {
  /// `DATABASE_URL`: `postgresql://` or `postgres://` URI. Holds a password: never log it.
  std::string url;
  /// `DATABASE_POOL_SIZE`: connections of the engine's pool (its commits and loads), 1..256.
  int pool_size = 8;
  /// `DATABASE_API_POOL_SIZE`: connections of the HTTP side's own pool (reads, creates, event
  /// streams), 1..256, so the engine never waits behind API traffic.
  int api_pool_size = 4;
  std::chrono::seconds connect_timeout{5};
};

/// HTTP gateway settings.
struct http_config {
  /// `API_HOST`.
  std::string host = "0.0.0.0";
  /// `API_PORT`: 1..65535.
  uint16_t port = 8000;
  /// `API_WORKERS`: I/O threads, 1..256.
  int workers = 2;
  /// `MAX_BODY_BYTES`: 1..1 GiB.
  std::size_t max_body_bytes = 1048576;
  /// `MAX_HEADER_BYTES`: request line plus header fields, 1 KiB..1 MiB; more is a 431.
  std::uint32_t max_header_bytes = 16 * 1024;
  /// `API_MAX_CONNECTIONS`: connections open at once, 1..1000000; one more gets a 503.
  std::size_t max_connections = 10'000;
  /// `SSE_MAX_SUBSCRIBERS`: event streams open at once on this node, 1..1000000; one more gets
  /// a 503.
  std::size_t sse_max_subscribers = 1'000;
  /// `AUTH_FAILURES_PER_MINUTE`: failed authentications one client address may make within a
  /// minute, 1..1000000; then its requests needing a key get 429 until the minute is over.
  int auth_failures_per_minute = 20;
  /// `CORS_ORIGINS`: comma separated; `*` allows any origin.
  std::vector<std::string> cors_origins;
  /// `RATE_LIMIT_PER_MINUTE`: requests per key, 1..1000000.
  int rate_limit_per_minute = 100;
  /// `API_KEYS`: `key:scope,...`.
  std::vector<api_key> api_keys;
  /// `API_HEADER_TIMEOUT_MS`: time to receive a whole request header; slower clients are dropped.
  std::chrono::milliseconds header_timeout{10'000};
  /// `API_BODY_TIMEOUT_MS`: time to receive a request body once its header arrived.
  std::chrono::milliseconds body_timeout{30'000};
  /// `API_IDLE_TIMEOUT_MS`: time a keep-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{60'000};
};

/// Output format of log lines.
enum class log_format : uint8_t {
  json,
  text,
};

/// Stable name of `x`: `json` or `text`.
std::string to_string(log_format x);

/// Logging settings.
struct log_config {
  /// `LOG_LEVEL`: trace, debug, info, warn (or warning), error, critical, off.
  spdlog::level::level_enum level = spdlog::level::info;
  /// `LOG_FORMAT`: json or text.
  log_format format = log_format::json;
};

/// Keystone credentials and the endpoints the client may call.
struct openstack_config {
  std::string auth_url;
  std::string username;
  /// Never log it.
  std::string password;
  std::string project_name;
  std::string user_domain_name = "Default";
  std::string project_domain_name = "Default";
  std::string region = "RegionOne";
  /// `OPENSTACK_ENDPOINT_ALLOWLIST`: comma separated URL prefixes (SSRF guard).
  std::vector<std::string> endpoint_allowlist;
  /// `OPENSTACK_CA_FILE`: PEM file of CAs trusted in addition to the system's (a private cloud's
  /// own CA); empty means the system store only.
  std::string ca_file;
  /// `OPENSTACK_INSECURE`: true/false/1/0. Skips TLS certificate and host name verification;
  /// for labs only, and the transport warns about it.
  bool insecure = false;
};

/// Where ansible-runner finds playbooks and keys.
struct ansible_config {
  std::string playbook_dir;
  std::string ssh_key_path;
  /// `ANSIBLE_VERBOSITY`: 0..5.
  int verbosity = 0;
  /// `ANSIBLE_TIMEOUT`: a configuration run still going after this is stopped (1 s .. 24 h).
  std::chrono::milliseconds timeout{1'800'000};
};

/// Cluster membership settings.
struct cluster_config {
  /// `NODE_ID`: empty lets the application pick one.
  std::string node_id;
  /// `CLUSTER_BIND`: `host:port` of the middleman; empty means single node.
  std::string bind;
  /// `CLUSTER_SEEDS`: comma separated `host:port` of peers.
  std::vector<std::string> seeds;
  /// `CLUSTER_HEARTBEAT`: how often a node reports itself and renews its leases (50 ms .. 1 m).
  std::chrono::milliseconds heartbeat{1'000};
  /// `CLUSTER_LEASE`: a deployment lease not renewed for this long may be taken over by another
  /// node (150 ms .. 10 m, at least three heartbeats).
  std::chrono::milliseconds lease{10'000};
};

/// Per-step deadlines and the lifetime of idle deployment actors. Durations are written as
/// an integer with a unit (`ms`, `s`, `m`, `h`); a bare integer means seconds.
struct deployment_config {
  /// `VM_BOOT_TIMEOUT`: a created server must be ACTIVE within this (1 s .. 24 h).
  std::chrono::milliseconds vm_boot_timeout{600'000};
  /// `VOLUME_TIMEOUT`: volume create, attach and detach (1 s .. 24 h).
  std::chrono::milliseconds volume_timeout{300'000};
  /// `DELETE_TIMEOUT`: a deleted server or volume must be gone within this (1 s .. 24 h).
  std::chrono::milliseconds delete_timeout{300'000};
  /// `DEPLOYMENT_IDLE_TIMEOUT`: a deployment actor with nothing to do stops after this
  /// (passivation, 100 ms .. 24 h); any request revives it from PostgreSQL.
  std::chrono::milliseconds idle_timeout{30'000};
  /// `MAX_ACTIVE_DEPLOYMENTS`: deployment actors a node runs at once (1..1000000); more starts
  /// wait in order (deletes never wait).
  int max_active = 1000;
  /// `MAX_VM_GROUPS_PER_DEPLOYMENT` (1..10000) and `MAX_VMS_PER_DEPLOYMENT` (1..1000000): the
  /// size of one template, and of a deployment's template once its parameters are applied.
  template_limits limits;
};

/// Every setting of the process, typed and checked (API.md, "Configuration").
struct config {
  database_config database;
  http_config http;
  log_config log;
  openstack_config openstack;
  ansible_config ansible;
  cluster_config cluster;
  deployment_config deployment;
  /// `SECRET_KEY`: at least 16 characters. Never log it.
  std::string secret_key;
  /// `SECRET_KEY_PREVIOUS`: comma-separated keys that `SECRET_KEY` replaced, each at least 16
  /// characters; stored secrets sealed by them still open until `orchestrator clouds reencrypt`.
  /// Never log them.
  std::vector<std::string> previous_secret_keys;
  /// `ORCH_INSTALLATION_ID`: 1..64 of `[A-Za-z0-9._-]`, starting with a letter or digit; marks
  /// every cloud resource this installation creates. Empty: the id drawn once and stored in
  /// the database.
  std::string installation_id;
};

/// Builds the configuration from `env` without reading the environment itself. Collects every
/// missing or malformed variable and fails with one `errc::invalid_config` whose detail is one
/// line such as `missing DATABASE_URL; API_PORT must be an integer 1..65535 (got "abc")`. The
/// detail never contains the value of a secret. With `config_use::migrate`, only `DATABASE_*`
/// and `LOG_*` are read; `config_use::clouds` adds `SECRET_KEY` and `SECRET_KEY_PREVIOUS`.
caf::expected<config> parse_config(const env_map& env, config_use use = config_use::serve);

/// Every secret value of `cfg` (API keys, `SECRET_KEY`, `SECRET_KEY_PREVIOUS`,
/// `OPENSTACK_PASSWORD`, the password in `DATABASE_URL`, raw and percent-decoded), for the log
/// redactor. Empty values are left out.
std::vector<std::string> secrets_of(const config& cfg);

/// The password inside a PostgreSQL URI (user info or `password=` parameter), percent-decoded;
/// empty if there is none.
std::string database_url_password(std::string_view url);

} // namespace orch
