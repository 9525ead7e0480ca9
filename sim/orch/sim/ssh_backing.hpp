#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

#include "orch/sim/cloud.hpp"

namespace orch::sim {

/// Settings of `--ssh-backing`.
struct ssh_backing_config {
  /// Directory for the host key, the generated `sshd` configurations, pid and log files.
  /// Created if missing.
  std::string run_dir;
  /// OpenSSH public key line authorised on every server besides its keypair's key (the
  /// orchestrator does not pass `key_name`, so this is how its key gets in). May be empty.
  std::string authorized_key;
  std::string sshd_path = "/usr/sbin/sshd";
  std::string keygen_path = "/usr/bin/ssh-keygen";
  uint16_t port = 22;
};

/// Makes simulated servers reachable over real SSH: one OpenSSH server per ACTIVE server,
/// listening on its fixed addresses, stopped when the server is gone. Only addresses in
/// 127.0.0.0/8 are served, so nothing listens beyond loopback; a server with none is skipped.
/// Needs root (port 22 and `sshd`'s privilege separation).
class ssh_backing {
public:
  /// Creates `run_dir` and a host key shared by every server. Throws `std::runtime_error` when
  /// not root or when `sshd` or `ssh-keygen` is missing or fails.
  explicit ssh_backing(ssh_backing_config cfg);

  /// Stops every `sshd` it started.
  ~ssh_backing();

  ssh_backing(const ssh_backing&) = delete;
  ssh_backing& operator=(const ssh_backing&) = delete;

  /// Starts an `sshd` for each server of `active` not served yet (or whose `sshd` died) and
  /// stops those of servers no longer in `active`.
  void sync(const std::vector<active_server>& active);

  /// Stops every `sshd` (idempotent).
  void stop_all();

  /// Server id -> the loopback addresses its `sshd` listens on.
  std::map<std::string, std::vector<std::string>> serving() const;

private:
  struct daemon {
    pid_t pid = -1;
    std::vector<std::string> addresses;
  };

  void start(const active_server& server);
  void stop(daemon& d);

  ssh_backing_config cfg_;
  std::map<std::string, daemon> daemons_;
};

} // namespace orch::sim
