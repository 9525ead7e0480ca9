#include "orch/http/fleet_metrics.hpp"

#include <algorithm>

#include "log.hpp"
#include "orch/errc.hpp"
#include "orch/persistence/deployment_repository.hpp"

namespace orch::http {

fleet_metrics::fleet_metrics(prometheus::Registry& registry,
                             persistence::deployment_repository& repo,
                             std::chrono::milliseconds interval, clock_function now)
  : repo_(repo), now_(std::move(now)), by_status_(prometheus::BuildGauge()
                                                    .Name("deployments")
                                                    .Help("Deployments per status, as stored")
                                                    .Register(registry)),
    stillest_(prometheus::BuildGauge()
                .Name("deployments_busy_stillest_seconds")
                .Help("Seconds since the busy deployment that changed least recently last "
                      "recorded an event; 0 when none is busy")
                .Register(registry)
                .Add({})),
    up_(prometheus::BuildGauge()
          .Name("database_up")
          .Help("1 if the last sample of the deployments table was read, else 0")
          .Register(registry)
          .Add({})) {
  if (interval <= std::chrono::milliseconds::zero()) return;
  worker_ = std::thread{[this, interval] {
    std::unique_lock lock{mtx_};
    do {
      lock.unlock();
      refresh();
      lock.lock();
    } while (!wake_.wait_for(lock, interval, [this] { return stopping_; }));
  }};
}

fleet_metrics::~fleet_metrics() {
  {
    std::lock_guard guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool fleet_metrics::refresh() {
  auto summary = repo_.summary();
  if (!summary) {
    // Once per outage, not once per sample.
    if (!last_failed_)
      log()->warn("cannot sample the deployments table: {}", error_detail(summary.error()));
    last_failed_ = true;
    up_.Set(0);
    return false;
  }
  if (last_failed_) log()->info("the deployments table can be sampled again");
  last_failed_ = false;
  for (const auto& [status, n] : summary->by_status)
    by_status_.Add({{"status", to_string(status)}}).Set(static_cast<double>(n));
  double stillest = 0;
  if (summary->stillest_busy_update) {
    auto age = now_() - *summary->stillest_busy_update;
    stillest = std::max(0.0, std::chrono::duration<double>(age).count());
  }
  stillest_.Set(stillest);
  // Last, so that a scrape seeing the database up sees this sample's numbers too.
  up_.Set(1);
  return true;
}

} // namespace orch::http
