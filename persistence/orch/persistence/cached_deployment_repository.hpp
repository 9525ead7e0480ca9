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

/// A `deployment_repository` that keeps the records `get` returned in memory (see `cached`)
/// and forwards every call to `store`, which must outlive it. Every write through it (`create`,
/// `append_events`, `claim`) drops the deployment's copy once the store returns, and a read that
/// raced with such a write is not kept, so a reader never sees a record older than the last
/// write made through it. Thread-safe if `store` is.
std::unique_ptr<deployment_repository>
make_cached_deployment_repository(deployment_repository& store, deployment_cache_config cfg = {});

} // namespace orch::persistence
