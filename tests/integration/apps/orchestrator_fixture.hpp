#pragma once

#include <map>
#include <memory>
#include <string>

#include "orch/testing/child_process.hpp"
#include "orch/testing/http_client.hpp"

namespace orch::testing {

/// Keys every test orchestrator accepts.
inline constexpr const char* write_key = "it-write-key-5f1e2d";
inline constexpr const char* read_key = "it-read-key-9a8b7c";
inline constexpr const char* secret_key = "it-secret-key-0123456789";

/// A PostgreSQL database of its own, created from DATABASE_URL and dropped at the end.
class scratch_database {
public:
  scratch_database();
  ~scratch_database();

  /// URL of the scratch database.
  const std::string& url() const noexcept { return url_; }

  /// Runs `sql` on the scratch database and returns the first column of the first row.
  std::string query_value(const std::string& sql) const;

private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

/// `orchestrator serve` on a free port and a scratch database, stopped with SIGTERM at the end
/// (which must exit 0).
class orchestrator_fixture {
public:
  explicit orchestrator_fixture(std::map<std::string, std::string> extra_env = {});
  ~orchestrator_fixture();

  uint16_t port() const noexcept { return port_; }
  scratch_database& db() noexcept { return *db_; }
  child_process& process() noexcept { return *process_; }

  /// A fresh keep-alive client to the orchestrator.
  std::unique_ptr<http_client> client() const;

  /// Sends one request on a fresh connection, with `key` as X-API-Key when not empty.
  http_response call(boost::beast::http::verb method, const std::string& target,
                     std::string body = {}, const std::string& key = write_key,
                     header_list headers = {}) const;

  /// Stops the process with SIGTERM and returns its exit status.
  int stop();

  /// Kills the process (SIGKILL, as a crash would) and starts a new one on the same database,
  /// port and settings; returns the killed process's exit status.
  int kill_and_restart();

private:
  void launch();

  std::map<std::string, std::string> env_;
  std::unique_ptr<scratch_database> db_;
  uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
  int launches_ = 0;
  bool stopped_ = false;
};

/// The base environment of a test orchestrator (without DATABASE_URL and API_PORT).
std::map<std::string, std::string> base_env();

/// Reads examples/<name>.
std::string example(const std::string& name);

} // namespace orch::testing
