#pragma once

#include <cstddef>
#include <deque>
#include <functional>

namespace orch::openstack {

/// Bounds the calls in flight to one cloud. Callers over the limit wait in FIFO order. Pure:
/// it only runs the functions it is given, synchronously.
class governor {
public:
  /// `max_in_flight` of 0 is treated as 1.
  explicit governor(std::size_t max_in_flight);

  /// Runs `start` now if a slot is free, else once one is released. `start` owns the slot
  /// and must eventually lead to exactly one `release()`.
  void acquire(std::function<void()> start);

  /// Frees a slot; the oldest waiter (if any) takes it and runs before this returns.
  void release();

  std::size_t in_flight() const noexcept { return in_flight_; }

  std::size_t waiting() const noexcept { return waiting_.size(); }

  std::size_t max_in_flight() const noexcept { return max_in_flight_; }

private:
  /// Starts waiters while slots are free. Re-entrant calls (a `start` that releases
  /// synchronously) return at once and leave the work to the outer loop, so the stack stays
  /// flat however long the queue is.
  void pump();

  std::size_t max_in_flight_;
  std::size_t in_flight_ = 0;
  bool pumping_ = false;
  std::deque<std::function<void()>> waiting_;
};

} // namespace orch::openstack
