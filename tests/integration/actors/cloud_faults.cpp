// The deployment engine against a misbehaving cloud: 5xx answers on creates (some after the
// cloud did the work, as a proxy's 502/504), and quotas below what the template needs.

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "node_fixture.hpp"
#include "orch/logging.hpp"

using namespace orch;
using namespace std::chrono_literals;
using orch::testing::node_fixture;

namespace {

/// The simulator's seed: fixed so that a run can be repeated, overridable through
/// `ORCH_TEST_SIM_SEED` because the checks must hold whatever the random draws are.
std::string sim_seed() {
  auto* seed = std::getenv("ORCH_TEST_SIM_SEED");
  return seed != nullptr && *seed != '\0' ? seed : "7";
}

std::vector<std::string> sim_flags(std::vector<std::string> extra = {}) {
  auto flags = orch::testing::default_sim_flags();
  flags.insert(flags.end(), {"--seed", sim_seed()});
  flags.insert(flags.end(), extra.begin(), extra.end());
  return flags;
}

/// The 3-tier template with four web servers: eight VMs, three with a volume.
template_spec eight_vm_template() {
  auto spec = orch::testing::three_tier();
  for (auto& [group, vm] : spec.vm_config)
    if (group == "web") vm.count = 4;
  return spec;
}

/// Cloud names of the servers `spec` asks for when deployed as `name`.
std::set<std::string> server_names(const std::string& name, const template_spec& spec) {
  std::set<std::string> result;
  for (const auto& [group, vm] : spec.vm_config)
    for (int i = 1; i <= vm.count; ++i) result.insert(name + "-" + group + "-" + std::to_string(i));
  return result;
}

std::string metadata(const rapidjson::Value& v, const char* key) {
  if (!v.HasMember("metadata") || !v["metadata"].IsObject() || !v["metadata"].HasMember(key)
      || !v["metadata"][key].IsString())
    return {};
  return v["metadata"][key].GetString();
}

/// Tags starting with `prefix`.
std::vector<std::string> tags_with(const rapidjson::Value& v, const std::string& prefix) {
  std::vector<std::string> result;
  if (v.HasMember("tags") && v["tags"].IsArray())
    for (const auto& t : v["tags"].GetArray())
      if (t.IsString() && std::string_view{t.GetString()}.starts_with(prefix))
        result.emplace_back(t.GetString());
  return result;
}

/// A node whose circuit breakers reopen quickly: a run of injected 5xx may open one, and the
/// test should not sit out the production default of 30 s.
struct flaky_cloud_node : node_fixture {
  flaky_cloud_node()
    : node_fixture(sim_flags(), [](actors::openstack_commands_config& occ) {
        occ.client.breaker.open_duration = 1s;
      }) {
    // nop
  }
};

/// Keeps each formatted log record, readable while loggers still write.
class line_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::vector<std::string> lines() {
    std::lock_guard lock{mutex_};
    return lines_;
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    lines_.emplace_back(buf.data(), buf.size());
  }

  void flush_() override {
    // nop
  }

private:
  std::vector<std::string> lines_;
};

/// Sends the logs, JSON formatted, to `sink` from before the node starts (a base class is
/// built before the next) until after it has stopped.
struct captured_logs {
  std::shared_ptr<line_sink> sink = std::make_shared<line_sink>();

  captured_logs() { configure_logging(log_config{}, {}, sink); }

  ~captured_logs() {
    configure_logging(log_config{}, {}, std::make_shared<spdlog::sinks::stdout_sink_mt>());
  }
};

struct logged_flaky_node : captured_logs, flaky_cloud_node {};

/// A project allowed four instances: the 3-tier template needs six.
struct small_instance_quota_node : node_fixture {
  small_instance_quota_node() : node_fixture(sim_flags({"--quota-instances", "4"})) {
    // nop
  }
};

/// A project allowed two volumes: the 3-tier template needs three.
struct small_volume_quota_node : node_fixture {
  small_volume_quota_node() : node_fixture(sim_flags({"--quota-volumes", "2"})) {
    // nop
  }
};

/// The rules of `GET /_sim/faults` by id.
std::map<std::string, uint64_t> fault_hits(openstack::testing::sim_process& sim) {
  auto [status, body] = sim.control("GET", "/_sim/faults");
  BOOST_REQUIRE(status == 200);
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  std::map<std::string, uint64_t> result;
  for (const auto& f : doc["faults"].GetArray())
    result[f["id"].GetString()] = f["hits"].GetUint64();
  return result;
}

/// Deploys the three-tier template as `name` on `node`, expects FAILED with a quota error whose
/// message contains `reason`, deletes it and checks the cloud is empty; returns the error.
operation_error fails_on_quota(node_fixture& node, const std::string& name,
                               const std::string& reason) {
  auto id = node.create_deployment(name, orch::testing::three_tier());
  node.engine->start(id);
  auto rec = node.wait_for(id, {deployment_status::completed, deployment_status::failed}, 60s);
  BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::failed, node_fixture::describe(rec));
  BOOST_REQUIRE(rec.operation && rec.operation->error);
  auto err = *rec.operation->error;
  BOOST_TEST_MESSAGE("operation.error: " << err.code << " | " << err.message << " | "
                                         << err.resource);
  BOOST_TEST(err.code == "quota_exceeded");
  BOOST_TEST(err.message.find(reason) != std::string::npos, err.message);
  node.remove(id);
  node.wait_for(id, {deployment_status::deleted}, 60s);
  node.check_cloud_is_empty();
  return err;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cloud_faults)

// An operator follows one deployment through the logs by its id: the lines of the cloud
// commands carry it too, retries included.
BOOST_FIXTURE_TEST_CASE(every_log_line_of_a_deployments_commands_names_it, logged_flaky_node) {
  sim.add_fault(R"({"route":"/compute/v2.1/servers","method":"POST","status":503,"count":2})");
  auto id = create_deployment("traced");
  engine->start(id);
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed}, 120s);
  BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::completed, describe(rec));
  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);

  int retries = 0;
  int about_it = 0;
  for (const auto& line : sink->lines()) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    BOOST_REQUIRE_MESSAGE(!doc.HasParseError() && doc.IsObject(), line);
    std::string message = doc["message"].GetString();
    bool retry = message.find(" failed (") != std::string::npos
                 && message.find("attempt") != std::string::npos;
    if (!retry && message.find("traced") == std::string::npos) continue;
    ++about_it;
    retries += retry ? 1 : 0;
    BOOST_TEST(
      (doc.HasMember("deployment_id") && doc["deployment_id"].GetString() == to_string(id)), line);
  }
  BOOST_TEST(retries >= 2);
  BOOST_TEST_MESSAGE(about_it << " log lines about the deployment, " << retries << " retries");
}

BOOST_FIXTURE_TEST_CASE(failing_creates_still_complete_with_exactly_the_requested_resources,
                        flaky_cloud_node) {
  const std::string servers = "/compute/v2.1/servers";
  // About 30% of server creates fail: the first is carried out before its 502 (the answer is
  // lost), another is refused outright, the rest at random. Every rule has a bound (`nth` or
  // `count`), so retries always get past whatever the seed draws.
  std::vector<std::string> certain{
    sim.add_fault(R"({"route":")" + servers
                  + R"(","method":"POST","status":502,"after":true,"nth":1})"),
    sim.add_fault(R"({"route":")" + servers + R"(","method":"POST","status":503,"nth":2})"),
    sim.add_fault(R"({"route":"/networking/v2.0/networks","method":"POST",)"
                  R"("status":502,"after":true,"nth":1})"),
    sim.add_fault(R"({"route":"/networking/v2.0/routers","method":"POST",)"
                  R"("status":504,"after":true,"nth":1})"),
    sim.add_fault(
      R"({"route":"/volume/v3/{project}/volumes","method":"POST","status":503,"nth":1})"),
    // Links too: an interface and an attachment made behind a lost answer.
    sim.add_fault(R"({"route":"/networking/v2.0/routers/{id}/add_router_interface",)"
                  R"("method":"PUT","status":502,"after":true,"nth":1})"),
    sim.add_fault(R"({"route":"/compute/v2.1/servers/{id}/os-volume_attachments",)"
                  R"("method":"POST","status":504,"after":true,"nth":1})"),
  };
  sim.add_fault(R"({"route":")" + servers
                + R"(","method":"POST","status":504,"after":true,"rate":0.15,"count":3})");
  sim.add_fault(R"({"route":")" + servers
                + R"(","method":"POST","status":500,"rate":0.15,"count":3})");
  sim.add_fault(R"({"route":"/networking/v2.0/ports","method":"POST",)"
                R"("status":502,"after":true,"rate":0.3,"count":3})");
  sim.add_fault(
    R"({"route":"/networking/v2.0/subnets","method":"POST","status":503,"rate":0.3,"count":2})");
  sim.add_fault(R"({"route":"/volume/v3/{project}/volumes","method":"POST",)"
                R"("status":502,"after":true,"rate":0.3,"count":2})");

  auto spec = eight_vm_template();
  auto id = create_deployment("flaky", spec);
  engine->start(id);
  auto rec = wait_for(id, {deployment_status::completed, deployment_status::failed}, 120s);
  BOOST_REQUIRE_MESSAGE(rec.status == deployment_status::completed, describe(rec));
  BOOST_TEST(rec.resources.vms.size() == 8u);
  BOOST_TEST(rec.resources.volumes.size() == 3u);

  // The faults did happen: every deterministic rule hit once.
  auto hits = fault_hits(sim);
  for (const auto& rule : certain) BOOST_TEST(hits[rule] == 1u, "rule " << rule);

  auto owner = "orch-deployment=" + to_string(id);
  auto st = sim.state();
  // Servers: exactly the requested names, each once, each tagged with its own resource.
  std::multiset<std::string> names;
  std::set<std::string> resource_tags;
  std::set<std::string> server_ids;
  for (const auto& s : st["servers"].GetArray()) {
    names.insert(str(s, "name"));
    server_ids.insert(str(s, "id"));
    BOOST_TEST_CONTEXT("server " << str(s, "name")) {
      BOOST_TEST(str(s, "status") == "ACTIVE");
      BOOST_TEST(has_tag(s, owner));
      auto tags = tags_with(s, "orch-resource=");
      BOOST_TEST(tags.size() == 1u);
      for (const auto& t : tags) BOOST_TEST(resource_tags.insert(t).second, "twice: " << t);
    }
  }
  auto wanted = server_names("flaky", spec);
  BOOST_TEST(names.size() == wanted.size());
  BOOST_TEST((std::set<std::string>{names.begin(), names.end()} == wanted));
  // Ports: one per server, the router's, and none left over from a lost create.
  std::map<std::string, int> ports_of;
  for (const auto& p : st["ports"].GetArray()) {
    auto device = str(p, "device_id");
    BOOST_TEST(!device.empty(), "unbound port " << str(p, "name"));
    if (server_ids.count(device) > 0) ++ports_of[device];
  }
  for (const auto& sid : server_ids) BOOST_TEST(ports_of[sid] == 1, "ports of " << sid);
  // Network, subnets and router: once each, tagged.
  BOOST_TEST(st["networks"].Size() == 2u); // ours and `public`
  for (const auto& n : st["networks"].GetArray())
    if (str(n, "name") != "public") BOOST_TEST(has_tag(n, owner));
  BOOST_TEST(st["subnets"].Size() == 4u); // ours and public's
  BOOST_TEST(st["routers"].Size() == 1u);
  for (const auto& r : st["routers"].GetArray()) BOOST_TEST(has_tag(r, owner));
  // Volumes: one per app server, owned, attached.
  BOOST_TEST(st["volumes"].Size() == 3u);
  std::set<std::string> volume_names;
  for (const auto& v : st["volumes"].GetArray()) {
    volume_names.insert(str(v, "name"));
    BOOST_TEST(metadata(v, "orch-deployment") == to_string(id));
    BOOST_TEST(str(v, "status") == "in-use");
  }
  BOOST_TEST(volume_names.size() == 3u);

  remove(id);
  wait_for(id, {deployment_status::deleted}, 60s);
  check_cloud_is_empty();
}

BOOST_FIXTURE_TEST_CASE(instance_quota_fails_the_deployment_once_with_the_clouds_reason,
                        small_instance_quota_node) {
  auto err = fails_on_quota(*this, "capped", "Quota exceeded for instances");
  BOOST_TEST(server_names("capped", orch::testing::three_tier()).count(err.resource) == 1u,
             err.resource);
  // A quota is permanent: no server was asked for more than once.
  BOOST_TEST(sim.calls("POST", "/compute/v2.1/servers") <= 6);
}

BOOST_FIXTURE_TEST_CASE(volume_quota_413_fails_the_deployment_once_with_the_clouds_reason,
                        small_volume_quota_node) {
  auto err = fails_on_quota(*this, "nodisk", "exceeded for quota 'volumes'");
  BOOST_TEST(err.resource.starts_with("nodisk-app-"), err.resource);
  BOOST_TEST(sim.calls("POST", "/volume/v3/{project}/volumes") <= 3);
}

BOOST_AUTO_TEST_SUITE_END()
