#include <algorithm>
#include <chrono>
#include <mutex>

#include "orch/errc.hpp"
#include "orch/persistence/configuration_run_repository.hpp"

namespace orch::persistence {

namespace {

class memory_configuration_run_repository : public configuration_run_repository {
public:
  caf::expected<configuration_run> start(const configuration_run& run) override {
    std::lock_guard guard{mtx_};
    for (const auto& x : runs_) {
      if (x.id == run.id)
        return make_error(errc::conflict, "configuration run " + to_string(run.id) + " exists");
      if (x.deployment_id == run.deployment_id && x.status == operation_status::running)
        return make_error(errc::conflict, "a configuration run is already running");
    }
    configuration_run stored = run;
    stored.status = operation_status::running;
    stored.hosts.clear();
    stored.failed_task.clear();
    stored.output.clear();
    stored.started_at = now();
    stored.finished_at.reset();
    runs_.push_back(stored);
    return stored;
  }

  caf::expected<configuration_run> finish(const configuration_run& run) override {
    if (run.status == operation_status::running)
      return make_error(errc::invalid_spec, "a finished run needs a final status");
    std::lock_guard guard{mtx_};
    auto i = std::find_if(runs_.begin(), runs_.end(),
                          [&](const configuration_run& x) { return x.id == run.id; });
    if (i == runs_.end())
      return make_error(errc::not_found, "no configuration run " + to_string(run.id));
    if (i->status != operation_status::running)
      return make_error(errc::conflict, "configuration run " + to_string(run.id) + " is over");
    i->status = run.status;
    i->hosts = run.hosts;
    i->failed_task = run.failed_task;
    i->output = run.output.substr(0, max_configuration_output);
    i->finished_at = now();
    return *i;
  }

  caf::expected<configuration_run_page> list(const uuid& deployment, int limit,
                                             int offset) override {
    std::lock_guard guard{mtx_};
    configuration_run_page page;
    // runs_ is in start order: newest first is from the back.
    for (auto i = runs_.rbegin(); i != runs_.rend(); ++i) {
      if (i->deployment_id != deployment) continue;
      if (page.total >= offset && static_cast<int>(page.items.size()) < limit) {
        page.items.push_back(*i);
        page.items.back().output.clear();
      }
      ++page.total;
    }
    return page;
  }

  caf::expected<configuration_run> get(const uuid& deployment, const uuid& id) override {
    std::lock_guard guard{mtx_};
    for (const auto& x : runs_)
      if (x.id == id && x.deployment_id == deployment) return x;
    return make_error(errc::not_found, "no configuration run " + to_string(id));
  }

  caf::expected<std::optional<configuration_run>> running(const uuid& deployment) override {
    std::lock_guard guard{mtx_};
    for (const auto& x : runs_)
      if (x.deployment_id == deployment && x.status == operation_status::running)
        return std::optional<configuration_run>{x};
    return std::optional<configuration_run>{};
  }

private:
  static timestamp now() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now());
  }

  std::mutex mtx_;
  std::vector<configuration_run> runs_;
};

} // namespace

std::unique_ptr<configuration_run_repository> make_memory_configuration_run_repository() {
  return std::make_unique<memory_configuration_run_repository>();
}

} // namespace orch::persistence
