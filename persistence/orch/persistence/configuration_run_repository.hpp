#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "orch/ansible/inventory.hpp"
#include "orch/ansible/job_events.hpp"
#include "orch/deployment/model.hpp"
#include "orch/time.hpp"
#include "orch/uuid.hpp"

namespace orch::persistence {

class pool;

/// One Ansible configuration run of a deployment.
struct configuration_run {
  uuid id;
  uuid deployment_id;
  std::string playbook;
  ansible::inventory inventory;
  /// A JSON object.
  std::string extra_vars = "{}";
  /// `running`, then `succeeded`, `failed` or `cancelled`.
  operation_status status = operation_status::running;
  /// Per host, sorted by host; empty while running.
  std::vector<ansible::host_summary> hosts;
  /// Failing hosts and tasks in one line (`ansible::describe_failures`), or why the run failed
  /// as a whole; empty if nothing failed.
  std::string failed_task;
  /// Bounded output; left empty by `list`.
  std::string output;
  timestamp started_at;
  std::optional<timestamp> finished_at;
};

/// One page of runs, newest first, and how many there are.
struct configuration_run_page {
  std::vector<configuration_run> items;
  int64_t total = 0;
};

/// Largest output a run keeps, in bytes.
inline constexpr size_t max_configuration_output = 131072;

/// Configuration runs. Every call may fail with `errc::store_unavailable`.
class configuration_run_repository {
public:
  virtual ~configuration_run_repository() = default;

  /// Records `run` as running (its status, hosts, output and finished_at are ignored) and
  /// answers it as stored. `errc::conflict` if the deployment already has a running run,
  /// `errc::not_found` if the deployment does not exist.
  virtual caf::expected<configuration_run> start(const configuration_run& run) = 0;

  /// Records how running run `run.id` ended: `status` (not `running`), `hosts`, `failed_task`
  /// and `output` (cut to `max_configuration_output`). `errc::not_found` if there is no such
  /// run, `errc::conflict` if it is not running any more.
  virtual caf::expected<configuration_run> finish(const configuration_run& run) = 0;

  /// Runs of `deployment`, newest first, without their output.
  virtual caf::expected<configuration_run_page> list(const uuid& deployment, int limit, int offset)
    = 0;

  /// Run `id` of `deployment` with its output; `errc::not_found` otherwise.
  virtual caf::expected<configuration_run> get(const uuid& deployment, const uuid& id) = 0;

  /// The running run of `deployment`, if any (after a crash: one that was interrupted).
  virtual caf::expected<std::optional<configuration_run>> running(const uuid& deployment) = 0;
};

/// A `configuration_run_repository` over the `configuration_runs` table, borrowing connections
/// from `db` (which must outlive it). Thread-safe.
std::unique_ptr<configuration_run_repository> make_pg_configuration_run_repository(pool& db);

/// The in-memory double for unit tests; it knows no deployments, so `start` never answers
/// `not_found`. Thread-safe.
std::unique_ptr<configuration_run_repository> make_memory_configuration_run_repository();

} // namespace orch::persistence
