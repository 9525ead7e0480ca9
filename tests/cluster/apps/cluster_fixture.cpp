#include "cluster_fixture.hpp"

#include <sstream>
#include <stdexcept>
#include <utility>

#include <boost/test/unit_test.hpp>

#include "json.hpp"

using namespace std::chrono_literals;
using boost::beast::http::verb;

namespace orch::testing::cluster {

cluster_fixture::cluster_fixture(const std::string& template_json, std::string suite,
                                 int max_deployments)
  : fx(template_json, std::move(suite), max_deployments) {
  // nop
}

node& cluster_fixture::launch(const std::string& id, std::map<std::string, std::string> extra) {
  auto n = std::make_unique<node>();
  n->id = id;
  n->port = free_port();
  auto env = base_env();
  env["LOG_LEVEL"] = "info";
  env["DATABASE_URL"] = fx.db.url();
  env["API_PORT"] = std::to_string(n->port);
  env["RATE_LIMIT_PER_MINUTE"] = "1000000";
  env["OPENSTACK_AUTH_URL"] = fx.sim.url() + "/identity/v3";
  env["OPENSTACK_USERNAME"] = "admin";
  env["OPENSTACK_PASSWORD"] = "secret";
  env["OPENSTACK_PROJECT_NAME"] = "admin";
  env["OPENSTACK_REGION"] = "RegionOne";
  env["NODE_ID"] = id;
  env["CLUSTER_HEARTBEAT"] = test_heartbeat;
  env["CLUSTER_LEASE"] = test_lease;
  for (auto& [k, v] : extra) env[k] = v;
  n->process
    = std::make_unique<child_process>(std::vector<std::string>{ORCH_ORCHESTRATOR_BIN, "serve"}, env,
                                      "cluster-" + fx.suite + "-" + id + ".log");
  nodes.push_back(std::move(n));
  return *nodes.back();
}

void cluster_fixture::await_listening(node& n) const {
  if (!n.process->wait_for_log("listening on", 60s))
    throw std::runtime_error("node " + n.id + " did not start:\n" + n.process->log());
}

void cluster_fixture::talk_to(const node& n) {
  fx.port = n.port;
}

void cluster_fixture::post_through(const node& n, const std::string& name) {
  talk_to(n);
  fx.post_deployment(name);
}

int cluster_fixture::count_in_log(const node& n, const std::string& needle) {
  auto log = n.process->log();
  int count = 0;
  for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++count;
  return count;
}

double cluster_fixture::metric(const node& n, const std::string& series) const {
  http_client client{"127.0.0.1", n.port, 15s};
  auto body = client.get("/metrics").body();
  std::istringstream lines{body};
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return 0;
}

} // namespace orch::testing::cluster
