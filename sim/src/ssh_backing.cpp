#include "orch/sim/ssh_backing.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace orch::sim {

namespace {

namespace fs = std::filesystem;

bool is_loopback(const std::string& addr) {
  return addr.starts_with("127.");
}

// fork + exec with an argument vector (no shell), stdin from /dev/null and stdout/stderr to
// `log`; the child leads its own process group so that a signal to the simulator's group does
// not reach it by accident and stop_all decides when it ends.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto parent = getpid();
  auto pid = fork();
  if (pid < 0) throw std::runtime_error(std::string{"fork failed: "} + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    // A simulator killed without its stop (SIGKILL) must not leave daemons on port 22.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in >= 0) dup2(in, 0);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    // Nothing of the simulator (its listening socket) may leak into the daemon.
    if (close_range(3, ~0U, 0) != 0)
      for (int fd = 3; fd < 4096; ++fd) close(fd);
    execv(args[0], args.data());
    _exit(127);
  }
  // Also here, so the group exists before spawn returns whichever process runs first.
  setpgid(pid, pid);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    // retry
  }
  return status;
}

} // namespace

ssh_backing::ssh_backing(ssh_backing_config cfg) : cfg_(std::move(cfg)) {
  if (geteuid() != 0)
    throw std::runtime_error("--ssh-backing needs root: sshd binds port "
                             + std::to_string(cfg_.port) + " and drops privileges");
  for (const auto& tool : {cfg_.sshd_path, cfg_.keygen_path})
    if (access(tool.c_str(), X_OK) != 0)
      throw std::runtime_error("--ssh-backing needs " + tool + " (Debian openssh-server)");
  fs::create_directories(cfg_.run_dir);
  // sshd refuses to start without its privilege separation directory.
  fs::create_directories("/run/sshd");
  auto host_key = fs::path{cfg_.run_dir} / "ssh_host_ed25519_key";
  if (!fs::exists(host_key)) {
    auto pid = spawn({cfg_.keygen_path, "-q", "-t", "ed25519", "-N", "", "-f", host_key.string()},
                     (fs::path{cfg_.run_dir} / "ssh-keygen.log").string());
    auto status = wait_for(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("ssh-keygen failed; see " + cfg_.run_dir + "/ssh-keygen.log");
  }
}

ssh_backing::~ssh_backing() {
  stop_all();
}

void ssh_backing::sync(const std::vector<active_server>& active) {
  std::map<std::string, const active_server*> wanted;
  for (const auto& server : active) wanted[server.id] = &server;
  for (auto i = daemons_.begin(); i != daemons_.end();) {
    auto w = wanted.find(i->first);
    // A daemon that exited on its own (killed, crashed) is reaped and started again below.
    bool dead = waitpid(i->second.pid, nullptr, WNOHANG) == i->second.pid;
    if (w == wanted.end() || dead) {
      if (!dead) stop(i->second);
      i = daemons_.erase(i);
    } else {
      ++i;
    }
  }
  for (const auto& [id, server] : wanted)
    if (!daemons_.contains(id)) start(*server);
}

void ssh_backing::start(const active_server& server) {
  daemon d;
  for (const auto& addr : server.addresses)
    if (is_loopback(addr)) d.addresses.push_back(addr);
  if (d.addresses.empty()) return;
  auto dir = fs::path{cfg_.run_dir};
  auto keys = dir / (server.id + ".authorized_keys");
  {
    std::ofstream out{keys, std::ios::trunc};
    if (!cfg_.authorized_key.empty()) out << cfg_.authorized_key << "\n";
    if (!server.public_key.empty()) out << server.public_key << "\n";
  }
  auto conf = dir / (server.id + ".sshd_config");
  {
    std::ofstream out{conf, std::ios::trunc};
    for (const auto& addr : d.addresses)
      out << "ListenAddress " << addr << ":" << cfg_.port << "\n";
    out << "HostKey " << (dir / "ssh_host_ed25519_key").string() << "\n"
        << "AuthorizedKeysFile " << keys.string() << "\n"
        << "PidFile " << (dir / (server.id + ".pid")).string() << "\n"
        << "PermitRootLogin prohibit-password\n"
        << "AuthenticationMethods publickey\n"
        << "PasswordAuthentication no\n"
        << "KbdInteractiveAuthentication no\n"
        << "UsePAM no\n"
        << "StrictModes no\n"
        << "UseDNS no\n"
        << "LogLevel ERROR\n"
        << "Subsystem sftp internal-sftp\n";
  }
  d.pid = spawn({cfg_.sshd_path, "-D", "-e", "-f", conf.string()},
                (dir / (server.id + ".log")).string());
  daemons_.emplace(server.id, std::move(d));
}

void ssh_backing::stop(daemon& d) {
  if (d.pid <= 0) return;
  if (kill(-d.pid, SIGTERM) != 0) kill(d.pid, SIGTERM);
  wait_for(d.pid);
  d.pid = -1;
}

void ssh_backing::stop_all() {
  for (auto& [id, d] : daemons_) stop(d);
  daemons_.clear();
}

std::map<std::string, std::vector<std::string>> ssh_backing::serving() const {
  std::map<std::string, std::vector<std::string>> result;
  for (const auto& [id, d] : daemons_) result.emplace(id, d.addresses);
  return result;
}

} // namespace orch::sim
