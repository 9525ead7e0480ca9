#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "orch/persistence/fwd.hpp"
#include "orch/time.hpp"

namespace orch::http {

/// Gauges of the whole fleet as PostgreSQL holds it, sampled (every node shows the same
/// numbers; dashboards take `max` over nodes):
/// - `deployments{status}`: deployments per status now,
/// - `deployments_busy_stillest_seconds`: how long the busy deployment that changed least
///   recently has gone without an event (0 when none is busy); a deployment stuck in an
///   operation makes it grow without bound,
/// - `database_up`: 1 if the last sample was read, 0 if PostgreSQL did not answer.
class fleet_metrics {
public:
  using clock_function = std::function<timestamp()>;

  /// Registers the families in `registry`, which must outlive this object. With a positive
  /// `interval`, a thread of its own samples `repo` at once and then every `interval`.
  fleet_metrics(prometheus::Registry& registry, persistence::deployment_repository& repo,
                std::chrono::milliseconds interval, clock_function now);

  ~fleet_metrics();

  fleet_metrics(const fleet_metrics&) = delete;
  fleet_metrics& operator=(const fleet_metrics&) = delete;

  /// Samples once; false if the repository did not answer (the counts keep their last
  /// values, `database_up` drops to 0).
  bool refresh();

private:
  persistence::deployment_repository& repo_;
  clock_function now_;
  prometheus::Family<prometheus::Gauge>& by_status_;
  prometheus::Gauge& stillest_;
  prometheus::Gauge& up_;
  bool last_failed_ = false;
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread worker_;
};

} // namespace orch::http
