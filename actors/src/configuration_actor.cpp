#include <chrono>

#include "orch/errc.hpp"
#include "orch/logging.hpp"
#include "runtime.hpp"

namespace orch::actors {

namespace {

std::shared_ptr<spdlog::logger> log() {
  return orch::logger("orch.actors");
}

struct configurator_state {
  static inline const char* name = "configurator";
  /// Run id -> when it started (steady clock), for the duration metric.
  std::map<uuid, std::chrono::steady_clock::time_point> started;
};

using configurator_ptr = caf::stateful_actor<configurator_state>*;

/// The stored form of how a run ended, and the line the deployment's error shows.
persistence::configuration_run finished_run(const uuid& run_id, const playbook_run_result& res) {
  persistence::configuration_run run;
  run.id = run_id;
  run.hosts = res.summary.hosts;
  run.output = res.output;
  run.failed_task = ansible::describe_failures(res.summary);
  switch (res.outcome) {
    case playbook_run_outcome::finished:
      if (res.summary.succeeded() && res.exit_code == 0) {
        run.status = operation_status::succeeded;
      } else {
        run.status = operation_status::failed;
        if (run.failed_task.empty())
          run.failed_task = "ansible-runner exited with status " + std::to_string(res.exit_code);
      }
      break;
    case playbook_run_outcome::timed_out:
      run.status = operation_status::failed;
      run.failed_task
        = "timed out (ANSIBLE_TIMEOUT)" + (run.failed_task.empty() ? "" : "; " + run.failed_task);
      break;
    case playbook_run_outcome::cancelled: run.status = operation_status::cancelled; break;
    case playbook_run_outcome::not_started:
      run.status = operation_status::failed;
      run.failed_task = "ansible-runner did not start: " + res.error;
      break;
  }
  return run;
}

caf::behavior configurator(configurator_ptr self, persistence::configuration_run_repository* runs,
                           std::shared_ptr<playbook_runner> runner, actor_metrics* metrics) {
  return {
    [=](configure_atom, persistence::configuration_run& run,
        caf::actor& deployment) -> caf::result<persistence::configuration_run> {
      auto stored = runs->start(run);
      if (!stored) return std::move(stored.error());
      self->state.started[run.id] = std::chrono::steady_clock::now();
      playbook_run_request req{to_string(run.id), run.playbook, run.inventory, run.extra_vars};
      auto me = caf::actor_cast<caf::actor>(self);
      auto run_id = run.id;
      auto deployment_id = run.deployment_id;
      log()->info("[d:{}] configuration run {} of {} started on {} group(s)",
                  to_string(deployment_id), to_string(run_id), run.playbook, run.inventory.size());
      runner->start(
        std::move(req), [me, run_id, deployment_id, deployment](playbook_run_result res) {
          caf::anon_send(me, done_atom::value, run_id, deployment_id, deployment, std::move(res));
        });
      return std::move(*stored);
    },
    [=](done_atom, const uuid& run_id, const uuid& deployment_id, const caf::actor& deployment,
        const playbook_run_result& res) {
      auto run = finished_run(run_id, res);
      auto status = to_string(run.status);
      if (auto i = self->state.started.find(run_id); i != self->state.started.end()) {
        if (metrics)
          metrics->configuration_finished(
            status,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - i->second).count());
        self->state.started.erase(i);
      }
      if (auto stored = runs->finish(run); !stored)
        log()->warn("[d:{}] configuration run {} ended {} but cannot be recorded: {}",
                    to_string(deployment_id), to_string(run_id), status,
                    self->system().render(stored.error()));
      log()->info("[d:{}] configuration run {} {}{}{}", to_string(deployment_id), to_string(run_id),
                  status, run.failed_task.empty() ? "" : ": ", run.failed_task);
      self->send(deployment, configured_atom::value, run_id,
                 run.status != operation_status::succeeded, run.failed_task);
    },
    [=](cancel_atom, const uuid& run_id) { runner->cancel(to_string(run_id)); },
    [=](interrupt_atom, const uuid& deployment_id) {
      auto running = runs->running(deployment_id);
      if (!running || !*running) return;
      auto run = **running;
      run.status = operation_status::failed;
      run.failed_task = "interrupted: the orchestrator restarted during the run";
      if (auto stored = runs->finish(run); !stored)
        log()->warn("[d:{}] interrupted configuration run {} cannot be recorded: {}",
                    to_string(deployment_id), to_string(run.id),
                    self->system().render(stored.error()));
      else if (metrics)
        metrics->configuration_finished("failed", 0.0);
      // Recorded first: stopping what the run left may take seconds.
      runner->cancel(to_string(run.id));
    },
  };
}

} // namespace

caf::actor spawn_configurator(caf::actor_system& sys,
                              persistence::configuration_run_repository& runs,
                              std::shared_ptr<playbook_runner> runner, actor_metrics* metrics,
                              bool detached) {
  if (detached) return sys.spawn<caf::detached>(configurator, &runs, std::move(runner), metrics);
  return sys.spawn(configurator, &runs, std::move(runner), metrics);
}

} // namespace orch::actors
