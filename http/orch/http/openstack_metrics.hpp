#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "orch/openstack/client.hpp"

namespace orch::http {

/// The OpenStack client's metrics, fed by the client as its `client_observer`:
/// - `openstack_api_calls_total{service,method,status}` per attempt (`status` as
///   `openstack::status_label`: `200`, `503`, `timeout`, `circuit_open`, ...),
/// - `openstack_api_call_duration_seconds{service}` per attempt that reached the transport,
/// - `openstack_api_retries_total{service}`,
/// - `openstack_circuit_breaker_state{service}`: 0 closed, 1 half-open, 2 open.
///
/// Also remembers the breaker states and the outcome of the last authentication for
/// `GET /health/ready` (`readiness`). The observer callbacks run on the client's executor;
/// `readiness` may be called from any thread.
class openstack_metrics : public openstack::client_observer {
public:
  /// Registers the families in `registry`, which must outlive this object.
  explicit openstack_metrics(prometheus::Registry& registry);

  void on_call(const openstack::call_report& report) override;

  void on_retry(openstack::service svc, const openstack::os_error& error,
                std::chrono::milliseconds delay) override;

  void on_breaker_change(openstack::service svc, openstack::breaker_state state) override;

  void on_authenticated(bool after_401) override;

  /// The cloud as `/health/ready` sees it.
  struct ready_state {
    /// False while a breaker is open or the last authentication failed.
    bool ok = true;
    /// `auth=ok; open breakers: compute` style summary, free of secrets.
    std::string detail;
  };

  ready_state readiness() const;

  /// A check for `gateway::add_readiness_check("openstack", ...)`; answers at once from the
  /// remembered state (no call to the cloud). This object must outlive the gateway.
  std::function<void(std::function<void(bool, std::string)>)> readiness_check() const;

  prometheus::Family<prometheus::Counter>& calls;
  prometheus::Family<prometheus::Histogram>& durations;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Gauge>& breaker_states;

private:
  static constexpr std::size_t service_count = 5;

  mutable std::mutex mtx_;
  std::array<openstack::breaker_state, service_count> breakers_{};
  /// Empty until the first authentication attempt ended.
  std::optional<bool> last_auth_ok_;
};

/// The gauge value of `x`: 0 closed, 1 half-open, 2 open.
double breaker_gauge_value(openstack::breaker_state x);

} // namespace orch::http
