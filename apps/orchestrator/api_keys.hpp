#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "orch/http/authenticator.hpp"
#include "orch/persistence/api_key_repository.hpp"

namespace orch::app {

/// `orchestrator keys add NAME read|write | list | revoke ID|NAME`: manages the API keys
/// stored in the database. A new key is printed once on `out` (alone on its line, for
/// scripts) and only its SHA-256 is stored. Returns the process exit status: 0, 1 when the
/// database refuses, 2 for a usage error.
int run_keys_command(persistence::api_key_repository& repo, const std::vector<std::string>& args,
                     std::ostream& out, std::ostream& err);

/// The usage text of `orchestrator keys`.
void print_keys_usage(std::ostream& out);

/// A fresh API key: `orch_` and 44 base64url characters (264 random bits).
std::string generate_api_key();

/// Hands the active stored keys to `apply` now and then every `interval` from its own thread,
/// so that `orchestrator keys` changes take effect on a running server without restart. While
/// the database is unreachable the last keys stay in force.
class stored_key_refresher {
public:
  using apply_function = std::function<void(const std::vector<http::hashed_api_key>&)>;

  stored_key_refresher(persistence::api_key_repository& repo, apply_function apply,
                       std::chrono::milliseconds interval);

  ~stored_key_refresher();

  stored_key_refresher(const stored_key_refresher&) = delete;
  stored_key_refresher& operator=(const stored_key_refresher&) = delete;

  /// Loads the keys once; false (and the old keys stay) if the database did not answer.
  bool refresh();

private:
  persistence::api_key_repository& repo_;
  apply_function apply_;
  std::chrono::milliseconds interval_;
  bool last_failed_ = false;
  std::size_t last_count_ = 0;
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread worker_;
};

} // namespace orch::app
