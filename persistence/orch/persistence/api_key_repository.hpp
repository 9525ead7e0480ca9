#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "orch/config.hpp"
#include "orch/time.hpp"
#include "orch/uuid.hpp"

namespace orch::persistence {

class pool;

/// An API key as the database keeps it: never the key itself, only its SHA-256 digest.
struct stored_api_key {
  uuid id;
  /// Who or what the key is for; unique among keys that are not revoked.
  std::string name;
  api_scope scope = api_scope::read;
  /// Lower-case hex SHA-256 of the key.
  std::string key_hash;
  timestamp created_at;
  std::optional<timestamp> revoked_at;
};

/// API keys managed with `orchestrator keys`, read by every node to extend `API_KEYS`.
/// Every call may fail with `errc::store_unavailable` when the database is down.
class api_key_repository {
public:
  virtual ~api_key_repository() = default;

  /// Stores a key by its digest. `errc::conflict` if an active key has the same name or the
  /// same digest; `errc::invalid_spec` for an empty name or a digest that is not 64 hex digits.
  virtual caf::expected<stored_api_key> add(std::string_view name, api_scope scope,
                                            std::string_view key_hash)
    = 0;

  /// Every key, revoked ones included, oldest first.
  virtual caf::expected<std::vector<stored_api_key>> list() = 0;

  /// Keys that are not revoked: what authentication accepts.
  virtual caf::expected<std::vector<stored_api_key>> active() = 0;

  /// Revokes the active key with this id (canonical UUID text) or else this name, and answers
  /// it as stored after; `errc::not_found` if no active key matches.
  virtual caf::expected<stored_api_key> revoke(std::string_view id_or_name) = 0;
};

/// An `api_key_repository` over the `api_keys` table, borrowing connections from `db` (which
/// must outlive it). Thread-safe.
std::unique_ptr<api_key_repository> make_pg_api_key_repository(pool& db);

/// The in-memory double for unit tests. Thread-safe.
std::unique_ptr<api_key_repository> make_memory_api_key_repository();

} // namespace orch::persistence
