#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "orch/config.hpp"
#include "orch/http/server.hpp"

namespace orch::http {

/// What `authenticator::check` decided.
enum class auth_status {
  /// A known key whose scope allows the method.
  allowed,
  /// No key presented: 401.
  missing,
  /// A key that matches none configured: 401.
  unknown,
  /// A read key on a mutating method: 403.
  forbidden,
};

/// The result of checking one request's credentials.
struct auth_outcome {
  auth_status status = auth_status::missing;
  /// For a known key: a name that identifies it without revealing it (`key-` and 8 hex digits
  /// of its SHA-256), for logs and rate limiting.
  std::string principal;
  /// For a known key: whether its scope is `write`.
  bool can_write = false;
};

/// A key known only by its digest (keys stored in the database).
struct hashed_api_key {
  /// Lower-case hex SHA-256 of the key (`authenticator::key_hash`).
  std::string sha256_hex;
  api_scope scope = api_scope::read;
};

/// API-key authentication and authorization as API.md describes: the key comes in `X-API-Key`
/// or `Authorization: Bearer`; `read` keys may GET and HEAD, `write` keys everything. Keys are
/// kept and compared only as SHA-256 digests, in constant time. Thread-safe; `set_keys` swaps
/// the table while requests are checked (key rotation without restart).
class authenticator {
public:
  explicit authenticator(const std::vector<api_key>& keys);

  /// Replaces the keys of the configuration (`API_KEYS`).
  void set_keys(const std::vector<api_key>& keys);

  /// Replaces the keys stored in the database; those of the configuration stay.
  void set_stored_keys(const std::vector<hashed_api_key>& keys);

  /// The digest a key is stored under: lower-case hex SHA-256.
  static std::string key_hash(std::string_view key);

  /// Checks the credentials `req` presents for its method.
  auth_outcome check(const request& req) const;

  /// `true` for the routes anyone may call: GET or HEAD on `/health`, `/health/ready`,
  /// `/metrics`, `/openapi.json` and under `/ui/`. `path` excludes the query string.
  static bool is_open_route(boost::beast::http::verb method, std::string_view path) noexcept;

  /// The key the request presents (`X-API-Key` first, then a Bearer token), or empty.
  static std::string_view presented_key(const request& req);

private:
  using digest = std::array<unsigned char, 32>;

  struct entry {
    digest hash;
    bool can_write;
  };

  static digest hash(std::string_view key);

  void publish();

  /// Both key lists, merged into `keys_` by `publish` under this lock.
  std::mutex update_mtx_;
  std::vector<entry> configured_;
  std::vector<entry> stored_;
  std::atomic<std::shared_ptr<const std::vector<entry>>> keys_;
};

} // namespace orch::http
