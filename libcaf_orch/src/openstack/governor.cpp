#include "orch/openstack/governor.hpp"

#include <cassert>
#include <utility>

namespace orch::openstack {

governor::governor(std::size_t max_in_flight)
  : max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight) {
  // nop
}

void governor::acquire(std::function<void()> start) {
  waiting_.push_back(std::move(start));
  pump();
}

void governor::release() {
  assert(in_flight_ > 0);
  if (in_flight_ > 0) --in_flight_;
  pump();
}

void governor::pump() {
  if (pumping_) return;
  pumping_ = true;
  while (in_flight_ < max_in_flight_ && !waiting_.empty()) {
    auto start = std::move(waiting_.front());
    waiting_.pop_front();
    ++in_flight_;
    start();
  }
  pumping_ = false;
}

} // namespace orch::openstack
