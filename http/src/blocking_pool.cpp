#include "orch/http/blocking_pool.hpp"

#include <algorithm>
#include <atomic>
#include <exception>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "log.hpp"

namespace orch::http {

struct blocking_pool::impl {
  explicit impl(std::size_t threads) : pool(std::max<std::size_t>(1, threads)) {
    // nop
  }

  boost::asio::thread_pool pool;
  std::atomic<bool> stopped{false};
};

blocking_pool::blocking_pool(std::size_t threads) : impl_(std::make_unique<impl>(threads)) {
  // nop
}

blocking_pool::~blocking_pool() {
  stop();
}

void blocking_pool::run(std::function<void()> work) {
  if (impl_->stopped.load()) return;
  boost::asio::post(impl_->pool, [work = std::move(work)] {
    try {
      work();
    } catch (const std::exception& ex) {
      log()->error("blocking work threw: {}", ex.what());
    } catch (...) {
      log()->error("blocking work threw a non-standard exception");
    }
  });
}

void blocking_pool::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->pool.join();
}

} // namespace orch::http
