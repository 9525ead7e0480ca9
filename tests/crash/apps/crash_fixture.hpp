#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "orchestrator_fixture.hpp"

namespace orch::testing::crash {

/// What one deployment of a template puts in the cloud, read from the template itself. Names
/// are suffixes of the deployment's name (`<deployment>-<suffix>` in the cloud).
struct template_shape {
  /// `<group>-<n>` of every VM.
  std::vector<std::string> vms;
  /// `<group>-<n>-vol<k>` of every volume -> `<group>-<n>` of the VM it is attached to.
  std::map<std::string, std::string> volumes;
  /// Subnet names, as in the template.
  std::vector<std::string> subnets;
  bool router = false;
  /// The external network of the router's gateway; empty without a gateway.
  std::string external_network;

  /// Neutron ports of one deployment: the orchestrator boots every server with a port of its own
  /// (one per VM); a router has one interface port per subnet and, with a gateway, one port on
  /// the external network.
  std::size_t ports() const;
};

/// Reads the groups (counts, volumes), subnets and router of a template document.
template_shape shape_of(const std::string& template_json);

/// Which way the cloud and the record of a killed orchestrator may disagree.
enum class work_kind { create, remove, resize };

/// Resources that a kill caught between a cloud call carried out and its recorded result.
struct interruptions {
  /// Resource kind (as in `resource_kind`'s names) -> how many the last kill caught.
  std::map<std::string, int> by_kind;
  /// Caught by an earlier kill and still not recorded: not counted in `by_kind`.
  int carried_over = 0;

  int total() const;

  /// E.g. `3 (server 1, volume_attachment 2)`.
  std::string str() const;
};

/// How a round's orchestrator ended.
struct kill_report {
  /// How long it ran after the round's requests (the probes' frozen time not counted).
  std::chrono::milliseconds ran{0};
  /// How often it was frozen and compared before the kill.
  int probes = 0;
};

/// `openstack-sim` on a port of its own, slow enough to boot, attach and delete that kills
/// land mid-way.
class simulator {
public:
  simulator(uint64_t seed, const template_shape& shape, int max_deployments,
            const std::string& log_file);
  ~simulator();

  const std::string& url() const noexcept { return url_; }

  /// `GET /_sim/state`, parsed; the last one is kept in `<log_file>.state.json` for a
  /// post-mortem.
  rapidjson::Document state() const;

  /// How often the cloud saw `method route` (a route pattern of `GET /_sim/calls`).
  int calls(const std::string& method, const std::string& route) const;

  /// Every cloud call the simulator has carried out so far.
  uint64_t total_calls() const;

private:
  std::unique_ptr<child_process> process_;
  std::string state_file_;
  std::string url_;
  uint16_t port_ = 0;
};

/// The template both crash tests deploy: every VM has a volume, so that a kill also lands between
/// a volume's create and its record and while an attachment is under way; deletes then have
/// detaches, volume and server deletes, router links, router, subnet and network to land in.
inline constexpr const char* crash_template_json = R"({
  "name": "crash-stack",
  "description": "one group of five VMs with a volume each behind a routed subnet",
  "vm_config": {"web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 5,
                        "volumes": [{"size_gb": 1}]}},
  "network_config": {"cidr": "10.0.0.0/16", "subnets": {"web": "10.0.1.0/24"},
                     "router": true, "external_network": "public"}
})";

/// A database and a simulator of their own, and an orchestrator on them that the test kills
/// with SIGKILL and restarts, `rounds` times.
struct crash_fixture {
  /// Deployments each round adds (to deploy, or to delete).
  static constexpr int deployments_per_round = 4;

  /// `suite` prefixes the log files of the processes (`crash-<suite>-orchestrator-<n>.log`).
  /// The simulator's quotas fit `max_deployments` deployments of the template (0: `rounds *
  /// deployments_per_round`).
  crash_fixture(const std::string& template_json, std::string suite, int max_deployments = 0);
  ~crash_fixture();

  /// Starts incarnation `incarnation` of the orchestrator and waits until it listens.
  void start_orchestrator(int incarnation);

  /// Lets the orchestrator run a seeded random delay, then freezes it (SIGSTOP) and compares
  /// the record with the cloud. If it has `kind` work caught mid-way (a disagreement the
  /// previous kill did not leave), it is killed with SIGKILL in exactly that state; else it
  /// runs on a short random while and is probed again, at most `max_probes` times.
  kill_report kill_mid_work(work_kind kind);

  /// After a kill: counts the resources on which the record and the cloud disagree in the
  /// way `kind` leaves them mid-way. Disagreements the previous kill left and the restart has
  /// not resolved yet are not this kill's.
  interruptions interrupted(work_kind kind);

  /// Waits until the database and the cloud have carried out every statement and call the
  /// orchestrator (frozen or dead) had sent them, then lists the resources, as `<kind> <cloud
  /// name or id>`, that the cloud has and the record lacks (`create`: a create carried out,
  /// its answer not recorded), that the record holds and the cloud has removed or is
  /// removing (`remove`), or recorded servers the cloud shows in the middle of a resize or on
  /// another flavor than the record's (`resize`: a resize or its confirm carried out, its
  /// outcome not recorded).
  std::set<std::string> disagreements(work_kind kind) const;

  http_response call(boost::beast::http::verb method, const std::string& target,
                     std::string body = {}) const;

  /// Stores the template (`POST /templates`).
  void store_template(const std::string& template_json) const;

  /// Creates a deployment of the `crash-stack` template and remembers its id.
  void post_deployment(const std::string& name);

  /// Status of every deployment, keyed by id.
  std::map<std::string, std::string> statuses() const;

  /// Polls until every deployment is in one of `final_statuses` or `timeout` passed; returns
  /// the last statuses seen.
  std::map<std::string, std::string> await_statuses(const std::set<std::string>& final_statuses,
                                                    std::chrono::seconds timeout) const;

  /// Checks that the cloud holds exactly what the template implies for every deployment, all
  /// of it tagged with its deployment, and nothing else.
  void check_exactly_deployed(const rapidjson::Document& st) const;

  /// Checks that the cloud holds nothing but what it held before the first deployment.
  void check_nothing_left(const rapidjson::Document& st) const;

  /// Names the log files of this suite's processes.
  std::string suite;
  uint64_t seed;
  /// `ORCH_CRASH_ROUNDS` (default 5): how many times the orchestrator is killed.
  int rounds;
  template_shape shape;
  std::mt19937_64 rng;
  // Declared before the processes so that it is dropped after they are gone.
  scratch_database db;
  simulator sim;
  /// Collection (`servers`, `ports`, ...) -> ids the cloud held before the first deployment
  /// (the external network and its subnet).
  std::map<std::string, std::set<std::string>> baseline;
  std::unique_ptr<child_process> orchestrator;
  uint16_t port = 0;
  /// Ids of the deployments, in the order they were created.
  std::vector<std::string> ids;
  /// Deployment id -> name.
  std::map<std::string, std::string> names;

private:
  /// `<kind> <cloud name or id>` of every disagreement at the last kill.
  std::set<std::string> disagreed_;
};

} // namespace orch::testing::crash
