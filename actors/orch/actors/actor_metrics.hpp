#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
class Gauge;
class Histogram;
} // namespace prometheus

namespace orch::actors {

/// The actor system's Prometheus series. Built once per process; thread-safe (prometheus-cpp
/// metrics are).
///
/// - `deployments_total{status}`: operations that ended (`completed`, `failed`, `deleted`),
/// - `deployment_duration_seconds{status}`: their duration, from start to the end status,
/// - `workflow_execution_duration_seconds{workflow}`: one cloud command (`create_server`, ...),
/// - `actors_live{kind}`: running `deployment`, `child` and `cloud` actors,
/// - `actor_restarts_total{kind}`: restarts by a supervisor,
/// - `deployments_waiting_to_start`: starts queued behind `max_active_deployments`,
/// - `configuration_runs_total{status}`: Ansible runs that ended (`succeeded`, `failed`,
///   `cancelled`), and `configuration_run_duration_seconds{status}` their duration,
/// - `cluster_lease_takeovers_total`: deployments this node claimed from another node's
///   expired lease.
class actor_metrics {
public:
  explicit actor_metrics(prometheus::Registry& registry);

  void deployment_finished(const std::string& status, double seconds);

  void workflow_finished(const std::string& workflow, double seconds);

  void actor_started(const std::string& kind);

  void actor_stopped(const std::string& kind);

  void actor_restarted(const std::string& kind);

  void deployments_waiting(std::size_t count);

  void configuration_finished(const std::string& status, double seconds);

  void lease_taken_over();

  /// Adds `delta` to the cloud commands deployment actors await (waits included).
  void commands_in_flight_changed(int64_t delta);

private:
  prometheus::Family<prometheus::Counter>& deployments_;
  prometheus::Family<prometheus::Histogram>& deployment_duration_;
  prometheus::Family<prometheus::Histogram>& workflow_duration_;
  prometheus::Family<prometheus::Gauge>& live_;
  prometheus::Family<prometheus::Counter>& restarts_;
  prometheus::Gauge& waiting_;
  prometheus::Family<prometheus::Counter>& configuration_runs_;
  prometheus::Family<prometheus::Histogram>& configuration_duration_;
  prometheus::Counter& takeovers_;
  prometheus::Gauge& in_flight_;
};

} // namespace orch::actors
