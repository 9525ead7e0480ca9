#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "orch/ansible/inventory.hpp"
#include "orch/ansible/job_events.hpp"

namespace orch::actors {

/// One configuration run to carry out.
struct playbook_run_request {
  /// Names the run (ansible-runner's `--ident`); a UUID.
  std::string run_id;
  /// A bare file name, already checked by `ansible::validate_playbook_name`.
  std::string playbook;
  ansible::inventory inventory;
  /// A JSON object, handed to Ansible as a file (never through a shell or a command line).
  std::string extra_vars = "{}";
};

/// How a run ended.
enum class playbook_run_outcome {
  /// ansible-runner finished; `summary` tells whether every host succeeded.
  finished,
  /// Stopped after the timeout.
  timed_out,
  /// Stopped by `cancel`.
  cancelled,
  /// ansible-runner could not be started (missing program, files not writable, ...).
  not_started,
};

/// Lower-case name, e.g. `timed_out`.
std::string to_string(playbook_run_outcome x);

/// What a run produced.
struct playbook_run_result {
  playbook_run_outcome outcome = playbook_run_outcome::finished;
  /// ansible-runner's exit status (-1 if it did not exit normally).
  int exit_code = -1;
  ansible::run_summary summary;
  /// Its stdout and stderr, bounded (head and tail, `ansible::output_buffer`).
  std::string output;
  /// Why it did not start; empty otherwise.
  std::string error;
};

/// Runs playbooks against hosts: the port through which the deployment actor configures VMs.
/// `start` never blocks its caller; `done` is called exactly once, from another thread.
class playbook_runner {
public:
  virtual ~playbook_runner();

  /// `true` if `playbook` (a checked bare name) exists in the playbook directory.
  virtual bool has_playbook(const std::string& playbook) const = 0;

  /// Starts `req`; calls `done` when it ends, however it ends.
  virtual void start(playbook_run_request req, std::function<void(playbook_run_result)> done) = 0;

  /// Stops run `run_id` if it still runs (its `done` then reports `cancelled`). A run this
  /// process does not know (one a crashed process left) has whatever it left on disk removed.
  virtual void cancel(const std::string& run_id) = 0;
};

/// Settings of the ansible-runner implementation.
struct ansible_runner_config {
  /// `ANSIBLE_PLAYBOOK_DIR`.
  std::string playbook_dir;
  /// `ANSIBLE_SSH_KEY_PATH`: copied into each run's private data directory with mode 0600.
  std::string ssh_key_path;
  /// `ANSIBLE_VERBOSITY`: as many `-v`.
  int verbosity = 0;
  /// `ANSIBLE_TIMEOUT`.
  std::chrono::milliseconds timeout{1'800'000};
  /// Where private data directories are made (one per run, removed afterwards).
  std::string work_dir = "/tmp";
  std::string program = "/usr/bin/ansible-runner";
  /// Bytes of output kept at the start and at the end.
  size_t output_head = 32 * 1024;
  size_t output_tail = 32 * 1024;
};

/// The real runner: `ansible-runner run <dir> -p <playbook> --ident <run_id>` as a child
/// process (argument vector, no shell, a minimal environment without the orchestrator's
/// secrets) in its own process group, one thread per run reading its output through a pipe.
/// A timeout or `cancel` ends the process group (SIGTERM, SIGKILL after 5 s). Destroying the
/// runner cancels and waits for every run.
std::shared_ptr<playbook_runner> make_ansible_runner(ansible_runner_config cfg);

} // namespace orch::actors
