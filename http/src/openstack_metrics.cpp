#include "orch/http/openstack_metrics.hpp"

#include <string>
#include <utility>

namespace orch::http {

using openstack::breaker_state;
using openstack::service;

namespace {

constexpr service all_services[]
  = {service::identity, service::compute, service::network, service::block_storage, service::image};

std::size_t index_of(service svc) {
  return static_cast<std::size_t>(svc);
}

prometheus::Histogram::BucketBoundaries duration_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

} // namespace

double breaker_gauge_value(breaker_state x) {
  switch (x) {
    case breaker_state::closed: return 0;
    case breaker_state::half_open: return 1;
    case breaker_state::open: return 2;
  }
  return 0;
}

openstack_metrics::openstack_metrics(prometheus::Registry& registry)
  : calls(prometheus::BuildCounter()
            .Name("openstack_api_calls_total")
            .Help("OpenStack API attempts by service, method and status")
            .Register(registry)),
    durations(prometheus::BuildHistogram()
                .Name("openstack_api_call_duration_seconds")
                .Help("Duration of OpenStack API attempts")
                .Register(registry)),
    retries(prometheus::BuildCounter()
              .Name("openstack_api_retries_total")
              .Help("OpenStack API retries scheduled")
              .Register(registry)),
    breaker_states(prometheus::BuildGauge()
                     .Name("openstack_circuit_breaker_state")
                     .Help("Circuit breaker per service: 0 closed, 1 half-open, 2 open")
                     .Register(registry)) {
  // Export every series from the start so that dashboards and alerts see zeros, not gaps.
  for (auto svc : all_services) {
    breaker_states.Add({{"service", to_string(svc)}}).Set(0);
    retries.Add({{"service", to_string(svc)}});
  }
}

void openstack_metrics::on_call(const openstack::call_report& report) {
  auto svc = to_string(report.svc);
  calls.Add({{"service", svc}, {"method", report.method}, {"status", status_label(report)}})
    .Increment();
  if (report.error != openstack::os_error_kind::circuit_open)
    durations.Add({{"service", svc}}, duration_buckets())
      .Observe(std::chrono::duration<double>(report.latency).count());
  if (report.svc == service::identity && report.error) {
    std::lock_guard<std::mutex> guard{mtx_};
    last_auth_ok_ = false;
  }
}

void openstack_metrics::on_retry(service svc, const openstack::os_error&,
                                 std::chrono::milliseconds) {
  retries.Add({{"service", to_string(svc)}}).Increment();
}

void openstack_metrics::on_breaker_change(service svc, breaker_state state) {
  breaker_states.Add({{"service", to_string(svc)}}).Set(breaker_gauge_value(state));
  std::lock_guard<std::mutex> guard{mtx_};
  breakers_[index_of(svc)] = state;
}

void openstack_metrics::on_authenticated(bool) {
  std::lock_guard<std::mutex> guard{mtx_};
  last_auth_ok_ = true;
}

openstack_metrics::ready_state openstack_metrics::readiness() const {
  std::lock_guard<std::mutex> guard{mtx_};
  ready_state result;
  std::string open;
  std::string half_open;
  for (auto svc : all_services) {
    auto st = breakers_[index_of(svc)];
    auto& list = st == breaker_state::open ? open : half_open;
    if (st == breaker_state::closed) continue;
    if (!list.empty()) list += ",";
    list += to_string(svc);
  }
  result.detail = "auth=";
  result.detail += !last_auth_ok_ ? "unknown" : *last_auth_ok_ ? "ok" : "failed";
  if (last_auth_ok_ == false) result.ok = false;
  if (!open.empty()) {
    result.ok = false;
    result.detail += "; open breakers: " + open;
  }
  // Half-open means probes are passing through: degraded, but the cloud is being used.
  if (!half_open.empty()) result.detail += "; half-open breakers: " + half_open;
  return result;
}

std::function<void(std::function<void(bool, std::string)>)>
openstack_metrics::readiness_check() const {
  return [this](std::function<void(bool, std::string)> done) {
    auto st = readiness();
    done(st.ok, std::move(st.detail));
  };
}

} // namespace orch::http
