#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace orch::http {

/// Threads for handlers that must call blocking code (a libpqxx repository): the handler does
/// `pool.run([=] { ...; respond(...); })` and returns at once, so the I/O threads never block.
class blocking_pool {
public:
  /// Starts `threads` threads (at least one).
  explicit blocking_pool(std::size_t threads);

  /// Waits for queued work, then joins.
  ~blocking_pool();

  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// Queues `work`. An exception escaping it is logged and swallowed: the pool keeps running,
  /// but the work's request then never gets an answer, so work should catch and answer 500.
  void run(std::function<void()> work);

  /// Waits for queued work and joins the threads; `run` afterwards does nothing. Idempotent.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orch::http
