// openstack-sim: serves a simulated OpenStack cloud until SIGTERM or SIGINT.

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include <pthread.h>

#include "orch/sim/http_service.hpp"

namespace {

constexpr const char* usage = R"(usage: openstack-sim [options]

A faithful OpenStack simulator (Keystone v3, Nova 2.1, Neutron v2.0, Cinder v3, Glance v2) on
one HTTP port. Prints its base URL on stdout once it listens; the Keystone URL for
OS_AUTH_URL is <base>/identity/v3. Exits 0 on SIGTERM or SIGINT.

options:
  --host ADDR             address to listen on and to put in the catalog (default 127.0.0.1;
                          the catalog says 127.0.0.1 or ::1 for 0.0.0.0 or ::)
  --port N                port to listen on; 0 picks a free one (default 0)
  --public-url URL        URL the catalog points at instead of http://<host>:<port>
  --seed N                seed of every generated id, token and random draw (default 1)
  --users LIST            accounts as name:password[:project[:domain]], comma-separated
                          (default admin:secret:admin:Default)
  --boot-time DIST        BUILD -> ACTIVE time (also resize, rebuild, volume create/attach):
                          fixed:<d>, uniform:<d>..<d> or never; <d> like 0, 250ms, 2s, 1m
                          (default fixed:0)
  --delete-time DIST      time until a deleted server or volume is gone (default fixed:0)
  --token-ttl D           token lifetime, e.g. 3600s or 60m (default 1h)
  --quota-instances N     Nova instances per project (default 10)
  --quota-cores N         Nova cores per project (default 20)
  --quota-ram N           Nova RAM in MiB per project (default 51200)
  --quota-volumes N       Cinder volumes per project (default 10)
  --quota-gigabytes N     Cinder gigabytes per project (default 1000)
  --quota-networks N      Neutron networks per project (default 100)
  --latency D             latency added to every call, e.g. 20ms (default 0)
  --state-file PATH       load the state from PATH at start (if it exists) and save it there
                          once a second while it changes and at exit, to survive restarts
  --workers N             HTTP I/O threads (default 2)
  --ssh-backing DIR       serve every ACTIVE server over real SSH: one OpenSSH server per server,
                          on its fixed addresses in 127.0.0.0/8, port 22, stopped when the server
                          is deleted; DIR holds host key, configurations and logs. Needs root
                          and /usr/sbin/sshd (Debian openssh-server)
  --ssh-authorized-key F  public key file authorised on every server besides its keypair's key
                          (the orchestrator's Ansible key; with --ssh-backing)
  --help                  show this text
)";

int fail(const std::string& message) {
  std::cerr << "openstack-sim: " << message << "\n(see --help)\n";
  return 2;
}

bool parse_int(const std::string& text, long min, long max, long& out) {
  char* end = nullptr;
  errno = 0;
  auto v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < min || v > max) return false;
  out = v;
  return true;
}

} // namespace

int main(int argc, char** argv) {
  orch::sim::cloud_config cfg;
  orch::http::server_config server_cfg;
  server_cfg.port = 0;
  orch::sim::service_options opts;
  std::vector<std::string> errors;
  std::map<std::string, int*> quotas{
    {"--quota-instances", &cfg.quotas.instances}, {"--quota-cores", &cfg.quotas.cores},
    {"--quota-ram", &cfg.quotas.ram_mb},          {"--quota-volumes", &cfg.quotas.volumes},
    {"--quota-gigabytes", &cfg.quotas.gigabytes}, {"--quota-networks", &cfg.quotas.networks}};
  bool users_given = false;
  std::string authorized_key;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage;
      return 0;
    }
    std::string value;
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      errors.push_back(flag + " needs a value");
      continue;
    }
    long n = 0;
    if (flag == "--host") {
      server_cfg.host = value;
    } else if (flag == "--port") {
      if (parse_int(value, 0, 65535, n))
        server_cfg.port = static_cast<uint16_t>(n);
      else
        errors.push_back("--port: not a port number: " + value);
    } else if (flag == "--public-url") {
      opts.public_url = value;
    } else if (flag == "--state-file") {
      opts.state_file = value;
    } else if (flag == "--ssh-backing") {
      if (!opts.ssh_backing) opts.ssh_backing.emplace();
      opts.ssh_backing->run_dir = value;
    } else if (flag == "--ssh-authorized-key") {
      std::ifstream in{value};
      std::string line;
      if (!in || !std::getline(in, line) || line.empty())
        errors.push_back("--ssh-authorized-key: cannot read a public key from " + value);
      authorized_key = line;
    } else if (flag == "--seed") {
      char* end = nullptr;
      auto seed = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0') errors.push_back("--seed: not a number: " + value);
      cfg.seed = seed;
    } else if (flag == "--users") {
      if (!users_given) cfg.users.clear();
      users_given = true;
      size_t pos = 0;
      while (pos <= value.size()) {
        auto end = value.find(',', pos);
        auto item = value.substr(pos, end == std::string::npos ? end : end - pos);
        if (auto account = orch::sim::user_account::parse(item))
          cfg.users.push_back(*account);
        else
          errors.push_back("--users: expected name:password[:project[:domain]], got '" + item
                           + "'");
        if (end == std::string::npos) break;
        pos = end + 1;
      }
    } else if (flag == "--boot-time" || flag == "--delete-time") {
      if (auto d = orch::sim::duration_dist::parse(value))
        (flag == "--boot-time" ? cfg.boot_time : cfg.delete_time) = *d;
      else
        errors.push_back(flag + ": expected fixed:<d>, uniform:<d>..<d> or never, got '" + value
                         + "'");
    } else if (flag == "--token-ttl" || flag == "--latency") {
      auto d = orch::sim::parse_duration(value);
      if (!d)
        errors.push_back(flag + ": expected a duration like 250ms, 2s or 1h, got '" + value + "'");
      else if (flag == "--latency")
        cfg.latency = *d;
      else if (d->count() < 1000)
        errors.push_back("--token-ttl: must be at least 1s");
      else
        cfg.token_ttl = std::chrono::duration_cast<std::chrono::seconds>(*d);
    } else if (flag == "--workers") {
      if (parse_int(value, 1, 64, n))
        server_cfg.workers = static_cast<int>(n);
      else
        errors.push_back("--workers: expected 1..64, got '" + value + "'");
    } else if (auto q = quotas.find(flag); q != quotas.end()) {
      if (parse_int(value, 0, 1'000'000'000, n))
        *q->second = static_cast<int>(n);
      else
        errors.push_back(flag + ": expected a non-negative integer, got '" + value + "'");
    } else {
      errors.push_back("unknown option " + flag);
    }
  }
  if (!authorized_key.empty()) {
    if (opts.ssh_backing)
      opts.ssh_backing->authorized_key = authorized_key;
    else
      errors.push_back("--ssh-authorized-key needs --ssh-backing");
  }
  if (!errors.empty()) {
    for (auto& e : errors) std::cerr << "openstack-sim: " << e << "\n";
    std::cerr << "(see --help)\n";
    return 2;
  }

  // Block the stop signals before any thread starts, so that only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  orch::sim::http_service service{cfg, server_cfg, opts};
  try {
    service.start();
  } catch (const std::system_error& e) {
    return fail(std::string{"cannot listen on "} + server_cfg.host + ":"
                + std::to_string(server_cfg.port) + ": " + e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::cout << service.url() << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  try {
    service.stop();
  } catch (const std::exception& e) {
    std::cerr << "openstack-sim: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
