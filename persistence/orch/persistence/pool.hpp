#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <caf/error.hpp>

namespace orch::persistence {

/// Settings of a PostgreSQL connection pool.
struct pool_config {
  /// libpq connection string: a `postgresql://` URI or `key=value` pairs.
  std::string url;
  /// Most connections open at once; callers beyond it wait for one to come back.
  int size = 4;
  /// Time allowed to open one connection (libpq rounds to whole seconds, at least 2).
  std::chrono::milliseconds connect_timeout{5'000};
  /// Time a caller waits for a free connection before giving up with `errc::store_unavailable`.
  std::chrono::milliseconds acquire_timeout{5'000};
};

/// Called once per database operation that got a connection, with the operation's name and how
/// long it ran, successful or not (waiting for a connection is not counted).
/// `apps/` points it at the `database_query_duration_seconds{operation}` histogram. Must be
/// thread-safe and cheap: it runs on the calling thread while the connection is still leased.
using query_observer = std::function<void(std::string_view operation, double seconds)>;

/// What a pool's callers are doing at one moment.
struct pool_usage {
  /// Connections leased (or being opened for a caller) right now.
  int in_use = 0;
  /// Callers waiting for a connection to come back.
  int waiting = 0;
  /// `true` when this change is a caller giving up after `acquire_timeout`.
  bool timed_out = false;
};

/// Called, with the pool's lock held, each time `pool_usage` changes: `apps/` points it at the
/// `database_pool_*{pool}` gauges and counter. Must be cheap and must not call the pool.
using usage_observer = std::function<void(const pool_usage&)>;

/// A bounded pool of PostgreSQL connections, safe to share between threads. Connections open
/// lazily; one that broke is thrown away and replaced on next use, so the pool recovers on its
/// own after the server restarts. No libpqxx exception leaves it: connection trouble becomes
/// `errc::store_unavailable`. The `pg_*` repositories in `src/` borrow connections from it.
class pool {
public:
  /// The libpqxx side, defined in `src/pg_pool.hpp` and used only by the `pg_*` adapters.
  class impl;

  /// Opens nothing yet; `errc::invalid_config` surfaces on first use if `cfg` is unusable.
  explicit pool(pool_config cfg, query_observer observer = {}, usage_observer usage = {});

  ~pool();

  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  /// Runs `SELECT 1` on a pooled connection; for readiness checks. `errc::store_unavailable`.
  caf::error ping();

  /// The settings this pool was built with.
  const pool_config& config() const noexcept;

  /// Connections currently open (idle or leased).
  int open_connections() const;

  /// Connections in use and callers waiting, now.
  pool_usage usage() const;

  /// For the `pg_*` adapters in `src/` only.
  impl& internals() noexcept { return *impl_; }

private:
  std::unique_ptr<impl> impl_;
};

} // namespace orch::persistence
