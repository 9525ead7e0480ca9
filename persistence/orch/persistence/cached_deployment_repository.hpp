#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "orch/persistence/deployment_repository.hpp"

namespace orch::persistence {

/// Settings of `make_cached_deployment_repository`.
struct deployment_cache_config {
  /// Records kept at most; the least recently read go first.
  std::size_t capacity = 4096;
  /// A cached record older than this is read from the store again. Writes through the cache
  /// take effect at once; this bounds how long a write that bypasses it (another process, an
  /// operator's SQL) stays unseen.
  std::chrono::milliseconds max_age{1000};
  /// Monotonic time; `std::chrono::steady_clock` unless set.
  std::function<std::chrono::steady_clock::time_point()> now;
};

/// The records kept in memory by one or more cached repositories (opaque).
class deployment_cache;

/// An empty cache, to share between the cached repositories of one node.
std::shared_ptr<deployment_cache> make_deployment_cache(deployment_cache_config cfg = {});

/// A `deployment_repository` that keeps the records `get` returned in `cache` (see `cached`)
/// and forwards every call to `store`, which must outlive it. Every write through it (`create`,
/// `append_events`, `claim`) drops the deployment's copy once the store returns, and a read that
/// raced with such a write is not kept, so a reader never sees a record older than the last
/// write made through it or through any other repository sharing `cache`. Sharing it, several
/// repositories over different connection pools (the engine's writes, the API's reads) stay
/// coherent: PostgreSQL shows a committed write to every later transaction, whatever its
/// connection. Thread-safe if `store` is.
std::unique_ptr<deployment_repository>
make_cached_deployment_repository(deployment_repository& store,
                                  std::shared_ptr<deployment_cache> cache);

/// The same with a cache of its own.
std::unique_ptr<deployment_repository>
make_cached_deployment_repository(deployment_repository& store, deployment_cache_config cfg = {});

} // namespace orch::persistence
