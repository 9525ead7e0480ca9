#include "orch/actors/actor_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace orch::actors {

namespace {

const prometheus::Histogram::BucketBoundaries& deployment_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{1,   5,   15,   30,   60,  120,
                                                               300, 600, 1200, 1800, 3600};
  return buckets;
}

const prometheus::Histogram::BucketBoundaries& workflow_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
    0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return buckets;
}

} // namespace

actor_metrics::actor_metrics(prometheus::Registry& registry)
  : deployments_(prometheus::BuildCounter()
                   .Name("deployments_total")
                   .Help("Deployment operations that ended, by final status")
                   .Register(registry)),
    deployment_duration_(prometheus::BuildHistogram()
                           .Name("deployment_duration_seconds")
                           .Help("Duration of deployment operations, by final status")
                           .Register(registry)),
    workflow_duration_(prometheus::BuildHistogram()
                         .Name("workflow_execution_duration_seconds")
                         .Help("Duration of one cloud command of a deployment, by command")
                         .Register(registry)),
    live_(prometheus::BuildGauge()
            .Name("actors_live")
            .Help("Running actors, by kind")
            .Register(registry)),
    restarts_(prometheus::BuildCounter()
                .Name("actor_restarts_total")
                .Help("Actors restarted by their supervisor, by kind")
                .Register(registry)),
    waiting_(prometheus::BuildGauge()
               .Name("deployments_waiting_to_start")
               .Help("Deployment starts queued until an actor slot frees up")
               .Register(registry)
               .Add({})),
    configuration_runs_(prometheus::BuildCounter()
                          .Name("configuration_runs_total")
                          .Help("Ansible configuration runs that ended, by status")
                          .Register(registry)),
    configuration_duration_(prometheus::BuildHistogram()
                              .Name("configuration_run_duration_seconds")
                              .Help("Duration of Ansible configuration runs, by status")
                              .Register(registry)),
    takeovers_(prometheus::BuildCounter()
                 .Name("cluster_lease_takeovers_total")
                 .Help("Deployments this node claimed from another node's expired lease")
                 .Register(registry)
                 .Add({})),
    in_flight_(prometheus::BuildGauge()
                 .Name("deployment_commands_in_flight")
                 .Help("Cloud commands the node's deployment actors have sent and await (waits "
                       "for a status included)")
                 .Register(registry)
                 .Add({})) {
  // Series exist from the start, so a rate over them is 0, not "no data", until the first
  // restart (alert rules and dashboards rely on it).
  for (const char* kind : {"deployment", "child", "store", "cloud"}) {
    live_.Add({{"kind", kind}});
    restarts_.Add({{"kind", kind}});
  }
}

void actor_metrics::deployment_finished(const std::string& status, double seconds) {
  deployments_.Add({{"status", status}}).Increment();
  deployment_duration_.Add({{"status", status}}, deployment_buckets()).Observe(seconds);
}

void actor_metrics::workflow_finished(const std::string& workflow, double seconds) {
  workflow_duration_.Add({{"workflow", workflow}}, workflow_buckets()).Observe(seconds);
}

void actor_metrics::actor_started(const std::string& kind) {
  live_.Add({{"kind", kind}}).Increment();
}

void actor_metrics::actor_stopped(const std::string& kind) {
  live_.Add({{"kind", kind}}).Decrement();
}

void actor_metrics::actor_restarted(const std::string& kind) {
  restarts_.Add({{"kind", kind}}).Increment();
}

void actor_metrics::deployments_waiting(std::size_t count) {
  waiting_.Set(static_cast<double>(count));
}

void actor_metrics::configuration_finished(const std::string& status, double seconds) {
  configuration_runs_.Add({{"status", status}}).Increment();
  configuration_duration_.Add({{"status", status}}, deployment_buckets()).Observe(seconds);
}

void actor_metrics::lease_taken_over() {
  takeovers_.Increment();
}

void actor_metrics::commands_in_flight_changed(int64_t delta) {
  in_flight_.Increment(static_cast<double>(delta));
}

} // namespace orch::actors
