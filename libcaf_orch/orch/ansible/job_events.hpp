#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch::ansible {

/// How one host fared in a playbook run, as `PLAY RECAP` shows it.
struct host_summary {
  std::string host;
  int ok = 0;
  int changed = 0;
  int failed = 0;
  int unreachable = 0;
  int skipped = 0;

  friend bool operator==(const host_summary&, const host_summary&) = default;
};

/// One task that failed on one host (errors ignored by the playbook are not failures).
struct task_failure {
  std::string host;
  std::string task;
  /// The module's `msg`, cut to `max_failure_message` bytes; empty if it gave none.
  std::string message;
  /// The host could not be reached rather than the task failing on it.
  bool unreachable = false;

  friend bool operator==(const task_failure&, const task_failure&) = default;
};

/// Longest failure message kept.
inline constexpr size_t max_failure_message = 512;

/// What ansible-runner's job events of one run say.
struct run_summary {
  /// One entry per host, sorted by host.
  std::vector<host_summary> hosts;
  /// In the order they happened.
  std::vector<task_failure> failures;
  /// The run reached `playbook_on_stats`: the playbook finished and `hosts` holds its recap.
  /// Otherwise `hosts` is tallied from the per-host events seen so far.
  bool complete = false;
  /// Events that were not a JSON object with an `event` and a `counter` (e.g. a file cut short
  /// by a kill); they are skipped.
  int malformed = 0;

  /// Sum of `changed` over every host.
  int changed() const noexcept;

  /// `true` if the run completed with no failed and no unreachable host.
  bool succeeded() const noexcept;
};

/// Parses ansible-runner's job events (the contents of `artifacts/<ident>/job_events/*.json`,
/// one JSON object each, in any order: they are sorted by their `counter`). Reads
/// `runner_on_ok`, `runner_on_failed`, `runner_on_unreachable`, `runner_on_skipped` and
/// `playbook_on_stats`; every other event is ignored.
run_summary parse_job_events(const std::vector<std::string>& events);

/// One line naming the failing hosts and tasks, e.g. `10.0.1.11: task "Install nginx" failed
/// (No package matching 'ngnix')`; several failures are joined with `; `. Empty if none.
std::string describe_failures(const run_summary& summary);

/// `hosts` as JSON: `[{"host", "ok", "changed", "failed", "unreachable", "skipped"}]`.
std::string to_json(const std::vector<host_summary>& hosts);

/// Reads what `to_json` wrote; `nullopt` for anything else.
std::optional<std::vector<host_summary>> parse_host_summaries(std::string_view json);

} // namespace orch::ansible
