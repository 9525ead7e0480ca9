#pragma once

#include <chrono>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace orch::testing {

/// A program started by a test: its stdout and stderr go to a log file, it is ended by PID
/// (SIGTERM, then SIGKILL) when the object dies, and the test can wait for a line in its log.
class child_process {
public:
  /// Starts `argv[0]` with exactly `env` as its environment (nothing inherited but the
  /// sanitizers' `*SAN_OPTIONS`), in `working_dir` when given.
  child_process(std::vector<std::string> argv, std::map<std::string, std::string> env,
                std::string log_path, std::string working_dir = {});
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Waits until the log contains `needle`; false after `timeout` or if the process exited.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const;

  /// Sends `sig` and waits for the exit; returns the exit status (128 + signal if killed).
  int stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds{10});

  /// Waits for the process to exit on its own; returns the exit status or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);

  /// Whole log so far.
  std::string log() const;

private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

/// A free TCP port on 127.0.0.1 at the time of the call.
unsigned short free_port();

/// The process environment as a map (for tests that extend it).
std::map<std::string, std::string> current_environment();

/// The value of an environment variable the test run must provide; fails the test with a clear
/// message when it is missing.
std::string required_env(const char* name);

} // namespace orch::testing
