#include "crash_fixture.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <numeric>
#include <signal.h>
#include <stdexcept>
#include <thread>
#include <utility>

#include <boost/test/unit_test.hpp>

#include "json.hpp"

using namespace std::chrono_literals;
using boost::beast::http::verb;

namespace orch::testing::crash {

namespace {

// The kill delay after a round's requests is log-uniform in [min, max]: the first milliseconds,
// where a create has been sent but not yet tagged or recorded, get as many kills as the seconds
// of booting, attaching and deleting that follow.
constexpr double min_kill_delay_ms = 1.0;
constexpr double max_kill_delay_ms = 2000.0;

// A round's process is frozen at its random moment and killed only if it has work caught
// mid-way; else it runs on for another log-uniform [1 ms, max_extra] and is probed again.
// Random moments alone missed about one kill in four: the restart's lookups by tag, or the
// seconds of booting between a deployment's creates and its attachments, have no create in
// flight. In the soak run 72 of 100 kills came at the first probe, and the most probes a
// round took was 17 (two rounds late in the deployments soak, with some 135 unfinished
// deployments to resume).
constexpr double max_extra_delay_ms = 100.0;
constexpr int max_probes = 50;

constexpr int default_rounds = 5;

// The cloud collections a deployment puts something in.
constexpr const char* collections[]
  = {"servers", "volumes", "ports", "networks", "subnets", "routers"};

/// The seed of the kill moments: `ORCH_CRASH_SEED` replays a failed run.
uint64_t crash_seed() {
  if (const char* text = std::getenv("ORCH_CRASH_SEED"); text != nullptr && *text != '\0')
    return std::stoull(text);
  return std::random_device{}();
}

/// `ORCH_CRASH_ROUNDS`: the soak variant kills the orchestrator 50 times instead of 5.
int crash_rounds() {
  const char* text = std::getenv("ORCH_CRASH_ROUNDS");
  if (text == nullptr || *text == '\0') return default_rounds;
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != std::string{text}.size() || n < 1 || n > 1000)
    throw std::invalid_argument(
      std::string{"ORCH_CRASH_ROUNDS must be an integer in 1..1000, not '"} + text + "'");
  return n;
}

std::string str(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString() ? v[key].GetString() : std::string{};
}

bool flag(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsBool() && v[key].GetBool();
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) ? &v[key] : nullptr;
}

/// The value of ownership mark `key` (`orch-deployment`, `orch-resource`, `orch-installation`)
/// on a resource: a `key=value` tag (Nova, Neutron) or metadata pair (Cinder); empty without.
std::string mark(const rapidjson::Value& resource, const std::string& key) {
  auto prefix = key + "=";
  if (auto* tags = member(resource, "tags"); tags != nullptr && tags->IsArray())
    for (const auto& t : tags->GetArray())
      if (t.IsString() && std::string{t.GetString()}.rfind(prefix, 0) == 0)
        return std::string{t.GetString()}.substr(prefix.size());
  if (auto* meta = member(resource, "metadata"); meta != nullptr && meta->IsObject())
    return str(*meta, key.c_str());
  return {};
}

/// The deployment a resource is marked with; empty without a mark.
std::string owner_of(const rapidjson::Value& resource) {
  return mark(resource, "orch-deployment");
}

bool has_fixed_ip_on(const rapidjson::Value& port, const std::string& subnet_id) {
  if (auto* ips = member(port, "fixed_ips"); ips != nullptr && ips->IsArray())
    for (const auto& ip : ips->GetArray())
      if (str(ip, "subnet_id") == subnet_id) return true;
  return false;
}

bool has_gateway(const rapidjson::Value& router) {
  auto* info = member(router, "external_gateway_info");
  return info != nullptr && info->IsObject();
}

std::vector<std::string> attached_servers(const rapidjson::Value& volume) {
  std::vector<std::string> out;
  if (auto* atts = member(volume, "attachments"); atts != nullptr && atts->IsArray())
    for (const auto& a : atts->GetArray()) out.push_back(str(a, "server_id"));
  return out;
}

/// The cloud's resources by id and by name, per collection.
class cloud_index {
public:
  explicit cloud_index(const rapidjson::Value& st) {
    for (const char* coll : collections)
      for (const auto& r : st[coll].GetArray()) {
        by_id_[coll][str(r, "id")] = &r;
        by_name_[coll][str(r, "name")].push_back(&r);
        if (std::string{coll} == "ports") by_device_[str(r, "device_id")].push_back(&r);
      }
  }

  const rapidjson::Value* find(const std::string& coll, const std::string& id) const {
    auto c = by_id_.find(coll);
    if (c == by_id_.end()) return nullptr;
    auto i = c->second.find(id);
    return i == c->second.end() ? nullptr : i->second;
  }

  std::vector<const rapidjson::Value*> named(const std::string& coll,
                                             const std::string& name) const {
    auto c = by_name_.find(coll);
    if (c == by_name_.end()) return {};
    auto i = c->second.find(name);
    return i == c->second.end() ? std::vector<const rapidjson::Value*>{} : i->second;
  }

  const rapidjson::Value* first_named(const std::string& coll, const std::string& name) const {
    auto all = named(coll, name);
    return all.empty() ? nullptr : all.front();
  }

  /// Ports bound to `device_id` with `device_owner` `owner`.
  std::vector<const rapidjson::Value*> ports_of(const std::string& device_id,
                                                const std::string& owner) const {
    std::vector<const rapidjson::Value*> out;
    if (auto i = by_device_.find(device_id); i != by_device_.end() && !device_id.empty())
      for (const auto* p : i->second)
        if (str(*p, "device_owner") == owner) out.push_back(p);
    return out;
  }

  /// Whether router `router_id` has an interface on subnet `subnet_id`.
  bool has_interface(const std::string& router_id, const std::string& subnet_id) const {
    auto ports = ports_of(router_id, "network:router_interface");
    return std::any_of(ports.begin(), ports.end(),
                       [&](const auto* p) { return has_fixed_ip_on(*p, subnet_id); });
  }

private:
  std::map<std::string, std::map<std::string, const rapidjson::Value*>> by_id_;
  std::map<std::string, std::map<std::string, std::vector<const rapidjson::Value*>>> by_name_;
  std::map<std::string, std::vector<const rapidjson::Value*>> by_device_;
};

/// The entry of `array` (the `vms` or `volumes` of recorded resources) named `name`, or null.
const rapidjson::Value* recorded_named(const rapidjson::Value& resources, const char* array,
                                       const std::string& name) {
  if (auto* xs = member(resources, array); xs != nullptr && xs->IsArray())
    for (const auto& x : xs->GetArray())
      if (str(x, "name") == name) return &x;
  return nullptr;
}

bool recorded_interface(const rapidjson::Value& resources, const std::string& subnet) {
  if (auto* xs = member(resources, "router_interfaces"); xs != nullptr && xs->IsArray())
    for (const auto& x : xs->GetArray())
      if (x.IsString() && x.GetString() == subnet) return true;
  return false;
}

std::string recorded_subnet(const rapidjson::Value& resources, const std::string& subnet) {
  auto* ids = member(resources, "subnet_ids");
  return ids == nullptr ? std::string{} : str(*ids, subnet.c_str());
}

/// Notes a resource on which the record and the cloud disagree: its kind and cloud name.
using note_fn = std::function<void(const char* kind, const std::string& cloud_name)>;

/// Notes what the cloud has and the record of deployment `name` lacks: creates the cloud
/// carried out whose answer the killed process never recorded. A server counts once its port
/// exists, the first of its two create calls.
void note_creates(const cloud_index& cloud, const template_shape& shape, const std::string& name,
                  const rapidjson::Value& res, const note_fn& note) {
  auto exists = [&](const char* coll, const std::string& cloud_name) {
    return cloud.first_named(coll, cloud_name) != nullptr;
  };
  if (exists("networks", name + "-net") && str(res, "network_id").empty())
    note("network", name + "-net");
  for (const auto& s : shape.subnets)
    if (exists("subnets", name + "-" + s) && recorded_subnet(res, s).empty())
      note("subnet", name + "-" + s);
  if (const auto* router = cloud.first_named("routers", name + "-router")) {
    if (str(res, "router_id").empty()) note("router", name + "-router");
    if (has_gateway(*router) && !flag(res, "router_gateway"))
      note("router_gateway", name + "-router");
    for (const auto& s : shape.subnets) {
      const auto* subnet = cloud.first_named("subnets", name + "-" + s);
      if (subnet != nullptr && cloud.has_interface(str(*router, "id"), str(*subnet, "id"))
          && !recorded_interface(res, s))
        note("router_interface", name + "-" + s);
    }
  }
  for (const auto& vm : shape.vms) {
    auto server = name + "-" + vm;
    if ((exists("servers", server) || exists("ports", server + "-port"))
        && recorded_named(res, "vms", server) == nullptr)
      note("server", server);
  }
  for (const auto& [vol, vm] : shape.volumes) {
    auto volume = name + "-" + vol;
    const auto* rec = recorded_named(res, "volumes", volume);
    if (rec == nullptr && exists("volumes", volume)) note("volume", volume);
    if (rec == nullptr || flag(*rec, "attached")) continue;
    if (const auto* v = cloud.find("volumes", str(*rec, "id"));
        v != nullptr && !attached_servers(*v).empty())
      note("volume_attachment", volume);
  }
}

/// Notes what the record of a deployment still holds and the cloud has removed or is
/// removing: deletes the cloud accepted whose outcome the killed process never recorded.
// A resize is under way in the cloud while the record does not know its outcome: the server
// is still changing, or already on another flavor than the recorded one.
void note_resizes(const cloud_index& cloud, const rapidjson::Value& res, const note_fn& note) {
  for (const auto& vm : res["vms"].GetArray()) {
    const auto* s = cloud.find("servers", str(vm, "id"));
    if (s == nullptr) continue;
    auto status = str(*s, "status");
    const auto* flavor = member(*s, "flavor");
    auto on = flavor != nullptr && flavor->IsObject() ? str(*flavor, "original_name") : "";
    if (status == "RESIZE" || status == "VERIFY_RESIZE" || status == "REVERT_RESIZE"
        || on != str(vm, "flavor"))
      note("server_resize", str(vm, "name"));
  }
}

void note_removes(const cloud_index& cloud, const rapidjson::Value& res, const note_fn& note) {
  auto gone = [&](const char* coll, const std::string& id) {
    return !id.empty() && cloud.find(coll, id) == nullptr;
  };
  for (const auto& vm : res["vms"].GetArray()) {
    const auto* s = cloud.find("servers", str(vm, "id"));
    if (s == nullptr || str(*s, "OS-EXT-STS:task_state") == "deleting")
      note("server", str(vm, "name"));
  }
  for (const auto& vol : res["volumes"].GetArray()) {
    const auto* v = cloud.find("volumes", str(vol, "id"));
    if (v == nullptr || str(*v, "status") == "deleting") note("volume", str(vol, "name"));
    if (flag(vol, "attached")
        && (v == nullptr || attached_servers(*v).empty() || str(*v, "status") == "detaching"))
      note("volume_attachment", str(vol, "name"));
  }
  auto router_id = str(res, "router_id");
  const auto* router = router_id.empty() ? nullptr : cloud.find("routers", router_id);
  if (auto* ifaces = member(res, "router_interfaces"); ifaces != nullptr && ifaces->IsArray())
    for (const auto& s : ifaces->GetArray()) {
      auto subnet_id = recorded_subnet(res, s.GetString());
      if (router == nullptr || !cloud.has_interface(router_id, subnet_id))
        note("router_interface", subnet_id);
    }
  if (flag(res, "router_gateway") && (router == nullptr || !has_gateway(*router)))
    note("router_gateway", router_id);
  if (gone("routers", router_id)) note("router", router_id);
  if (auto* ids = member(res, "subnet_ids"); ids != nullptr && ids->IsObject())
    for (const auto& s : ids->GetObject())
      if (gone("subnets", s.value.GetString())) note("subnet", s.value.GetString());
  if (gone("networks", str(res, "network_id"))) note("network", str(res, "network_id"));
}

} // namespace

// -- template_shape -------------------------------------------------------------------------

std::size_t template_shape::ports() const {
  return vms.size() + (router ? subnets.size() : 0) + (router && !external_network.empty() ? 1 : 0);
}

template_shape shape_of(const std::string& template_json) {
  auto doc = parse_json(template_json);
  template_shape out;
  for (const auto& g : doc["vm_config"].GetObject()) {
    std::string group = g.name.GetString();
    auto volumes = g.value.HasMember("volumes") ? g.value["volumes"].Size() : 0u;
    for (int i = 1; i <= g.value["count"].GetInt(); ++i) {
      auto vm = group + "-" + std::to_string(i);
      out.vms.push_back(vm);
      for (rapidjson::SizeType k = 1; k <= volumes; ++k)
        out.volumes.emplace(vm + "-vol" + std::to_string(k), vm);
    }
  }
  const auto& net = doc["network_config"];
  for (const auto& s : net["subnets"].GetObject()) out.subnets.emplace_back(s.name.GetString());
  out.router = flag(net, "router");
  if (out.router) out.external_network = str(net, "external_network");
  return out;
}

// -- interruptions --------------------------------------------------------------------------

int interruptions::total() const {
  return std::accumulate(by_kind.begin(), by_kind.end(), 0,
                         [](int sum, const auto& x) { return sum + x.second; });
}

std::string interruptions::str() const {
  auto out = std::to_string(total());
  if (!by_kind.empty()) {
    out += " (";
    for (auto i = by_kind.begin(); i != by_kind.end(); ++i)
      out += (i == by_kind.begin() ? "" : ", ") + i->first + " " + std::to_string(i->second);
    out += ")";
  }
  return out;
}

// -- simulator ------------------------------------------------------------------------------

simulator::simulator(uint64_t seed, const template_shape& shape, int max_deployments,
                     const std::string& log_file)
  : state_file_(log_file + ".state.json") {
  // Quotas from the most the test can deploy at once, so that no create fails for a quota:
  // m1.xlarge (8 cores, 16 GiB) bounds any flavor of the simulator, and no volume of the test
  // templates is over 10 GB. One network more for the external one.
  auto instances = static_cast<int>(shape.vms.size()) * max_deployments;
  auto volumes = static_cast<int>(shape.volumes.size()) * max_deployments;
  std::vector<std::string> argv{ORCH_SIM_BIN, "--port", "0", "--seed", std::to_string(seed),
                                // Boots, attaches and detaches take this long, deletes a bit
                                // less: like a real cloud, and what leaves kills something to
                                // interrupt beyond the milliseconds of each create call.
                                "--boot-time", "uniform:200ms..1500ms", "--delete-time",
                                "uniform:100ms..800ms", "--quota-instances",
                                std::to_string(std::max(instances, 10)), "--quota-cores",
                                std::to_string(std::max(instances * 8, 20)), "--quota-ram",
                                std::to_string(std::max(instances * 16384, 51200)),
                                "--quota-volumes", std::to_string(std::max(volumes, 10)),
                                "--quota-gigabytes", std::to_string(std::max(volumes * 10, 1000)),
                                "--quota-networks", std::to_string(max_deployments + 1)};
  process_ = std::make_unique<child_process>(
    argv, std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}}, log_file);
  if (!process_->wait_for_log("http://", 30s))
    throw std::runtime_error("openstack-sim did not start:\n" + process_->log());
  auto log = process_->log();
  auto at = log.find("http://");
  auto end = log.find_first_of("\r\n", at);
  url_ = log.substr(at, end == std::string::npos ? std::string::npos : end - at);
  auto colon = url_.rfind(':');
  port_ = static_cast<uint16_t>(std::stoi(url_.substr(colon + 1)));
}

simulator::~simulator() {
  process_->stop(SIGTERM, 10s);
}

rapidjson::Document simulator::state() const {
  http_client client{"127.0.0.1", port_, 30s};
  auto res = client.get("/_sim/state");
  if (res.result_int() != 200)
    throw std::runtime_error("GET /_sim/state answered " + std::to_string(res.result_int()));
  std::ofstream{state_file_} << res.body();
  return parse_json(res.body());
}

int simulator::calls(const std::string& method, const std::string& route) const {
  http_client client{"127.0.0.1", port_, 15s};
  auto doc = parse_json(client.get("/_sim/calls").body());
  int count = 0;
  for (const auto& c : doc["calls"].GetArray())
    if (str(c, "method") == method && str(c, "route") == route) count += c["count"].GetInt();
  return count;
}

uint64_t simulator::total_calls() const {
  http_client client{"127.0.0.1", port_, 15s};
  return parse_json(client.get("/_sim/calls").body())["total"].GetUint64();
}

// -- crash_fixture --------------------------------------------------------------------------

crash_fixture::crash_fixture(const std::string& template_json, std::string suite_name,
                             int max_deployments)
  : suite(std::move(suite_name)), seed(crash_seed()), rounds(crash_rounds()),
    shape(shape_of(template_json)), rng(seed),
    sim(seed, shape, max_deployments > 0 ? max_deployments : rounds * deployments_per_round,
        "crash-" + suite + "-openstack-sim.log") {
  BOOST_TEST_MESSAGE("crash seed " << seed << " (replay with ORCH_CRASH_SEED=" << seed << "), "
                                   << rounds << " rounds");
  auto st = sim.state();
  for (const char* coll : collections) {
    auto& before = baseline[coll];
    for (const auto& r : st[coll].GetArray()) before.insert(str(r, "id"));
  }
}

crash_fixture::~crash_fixture() {
  if (orchestrator) {
    // A probe that threw may have left it frozen, deaf to SIGTERM.
    ::kill(orchestrator->pid(), SIGCONT);
    auto rc = orchestrator->stop(SIGTERM, 20s);
    BOOST_CHECK_MESSAGE(rc == 0, "orchestrator exited with " << rc << " on SIGTERM");
  }
}

void crash_fixture::start_orchestrator(int incarnation) {
  port = free_port();
  auto env = base_env();
  env["LOG_LEVEL"] = "info";
  env["DATABASE_URL"] = db.url();
  env["API_PORT"] = std::to_string(port);
  env["RATE_LIMIT_PER_MINUTE"] = "1000000";
  env["OPENSTACK_AUTH_URL"] = sim.url() + "/identity/v3";
  env["OPENSTACK_USERNAME"] = "admin";
  env["OPENSTACK_PASSWORD"] = "secret";
  env["OPENSTACK_PROJECT_NAME"] = "admin";
  env["OPENSTACK_REGION"] = "RegionOne";
  orchestrator = std::make_unique<child_process>(
    std::vector<std::string>{ORCH_ORCHESTRATOR_BIN, "serve"}, env,
    "crash-" + suite + "-orchestrator-" + std::to_string(incarnation) + ".log");
  if (!orchestrator->wait_for_log("listening on", 60s))
    throw std::runtime_error("orchestrator " + std::to_string(incarnation) + " did not start:\n"
                             + orchestrator->log());
}

kill_report crash_fixture::kill_mid_work(work_kind kind) {
  std::uniform_real_distribution<double> first{std::log(min_kill_delay_ms),
                                               std::log(max_kill_delay_ms)};
  std::uniform_real_distribution<double> more{std::log(min_kill_delay_ms),
                                              std::log(max_extra_delay_ms)};
  auto draw
    = [&](auto& dist) { return std::chrono::milliseconds{std::lround(std::exp(dist(rng)))}; };
  kill_report out;
  auto pid = orchestrator->pid();
  for (auto delay = draw(first);; delay = draw(more)) {
    // The random delay is what this test varies, not a wait for an event.
    std::this_thread::sleep_for(delay);
    out.ran += delay;
    ++out.probes;
    // Frozen, the process sends nothing more; what it had sent completes. A SIGKILL now
    // leaves exactly the record and the cloud compared here.
    ::kill(pid, SIGSTOP);
    auto found = disagreements(kind);
    bool caught = std::any_of(found.begin(), found.end(),
                              [&](const auto& key) { return disagreed_.count(key) == 0; });
    if (caught || out.probes == max_probes) break;
    ::kill(pid, SIGCONT);
  }
  auto rc = orchestrator->stop(SIGKILL, 10s);
  BOOST_TEST_REQUIRE(rc == 128 + SIGKILL);
  orchestrator.reset();
  return out;
}

std::set<std::string> crash_fixture::disagreements(work_kind kind) const {
  // A statement PostgreSQL had received still runs to its end, and so does a call the
  // simulator had read: only once no session of the orchestrator is active and the cloud has
  // seen no call for a while are the record and the cloud final.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (db.query_value("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND pid <> pg_backend_pid() AND state = 'active'")
         != "0") {
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("the orchestrator's database statements did not end");
    std::this_thread::sleep_for(10ms);
  }
  for (auto calls = sim.total_calls();;) {
    std::this_thread::sleep_for(100ms);
    auto now = sim.total_calls();
    if (now == calls) break;
    calls = now;
  }
  auto recorded = parse_json(db.query_value(
    "SELECT COALESCE(json_agg(json_build_object('name', name, 'resources', resources)), '[]')"
    "::text FROM deployments"));
  auto st = sim.state();
  cloud_index cloud{st};
  std::set<std::string> out;
  note_fn note = [&](const char* what, const std::string& cloud_name) {
    out.insert(std::string{what} + " " + cloud_name);
  };
  for (const auto& d : recorded.GetArray()) {
    if (kind == work_kind::create)
      note_creates(cloud, shape, str(d, "name"), d["resources"], note);
    else if (kind == work_kind::resize)
      note_resizes(cloud, d["resources"], note);
    else
      note_removes(cloud, d["resources"], note);
  }
  return out;
}

interruptions crash_fixture::interrupted(work_kind kind) {
  interruptions out;
  auto found = disagreements(kind);
  // A disagreement already there at the previous kill is older work the restarted process did
  // not get to: the cloud call behind it was not sent by the process killed now.
  for (const auto& key : found) {
    if (disagreed_.count(key) > 0)
      ++out.carried_over;
    else
      ++out.by_kind[key.substr(0, key.find(' '))];
  }
  disagreed_ = std::move(found);
  return out;
}

http_response crash_fixture::call(verb method, const std::string& target, std::string body) const {
  http_client client{"127.0.0.1", port, 15s};
  return client.request(method, target, std::move(body), {{"X-API-Key", write_key}});
}

void crash_fixture::store_template(const std::string& template_json) const {
  auto created = call(verb::post, "/templates", template_json);
  BOOST_TEST_REQUIRE(created.result_int() == 201, created.body());
}

void crash_fixture::post_deployment(const std::string& name) {
  auto res = call(verb::post, "/deployments",
                  R"({"name": ")" + name
                    + R"(", "template": "crash-stack", "cloud_region": "RegionOne"})");
  BOOST_TEST_REQUIRE(res.result_int() == 202, res.body());
  ids.push_back(str(parse_json(res.body()), "id"));
  BOOST_TEST_REQUIRE(!ids.back().empty());
  names[ids.back()] = name;
}

std::map<std::string, std::string> crash_fixture::statuses() const {
  std::map<std::string, std::string> out;
  for (const auto& id : ids) {
    auto res = call(verb::get, "/deployments/" + id);
    if (res.result_int() != 200)
      throw std::runtime_error("GET /deployments/" + id + " answered "
                               + std::to_string(res.result_int()) + ": " + res.body());
    out[id] = str(parse_json(res.body()), "status");
  }
  return out;
}

std::map<std::string, std::string>
crash_fixture::await_statuses(const std::set<std::string>& final_statuses,
                              std::chrono::seconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto last = statuses();
    bool done = std::all_of(last.begin(), last.end(),
                            [&](const auto& x) { return final_statuses.count(x.second) > 0; });
    if (done || std::chrono::steady_clock::now() >= deadline) return last;
    std::this_thread::sleep_for(250ms);
  }
}

void crash_fixture::check_exactly_deployed(const rapidjson::Document& st) const {
  cloud_index cloud{st};
  // (collection, cloud name) -> the deployment that must hold it and the logical name it is
  // marked with, from the template's shape (a server's port carries the server's marks).
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> expected;
  for (const auto& [id, name] : names) {
    expected[{"networks", name + "-net"}] = {id, "network"};
    for (const auto& s : shape.subnets) expected[{"subnets", name + "-" + s}] = {id, "subnet:" + s};
    if (shape.router) expected[{"routers", name + "-router"}] = {id, "router"};
    for (const auto& vm : shape.vms) {
      expected[{"servers", name + "-" + vm}] = {id, "vm:" + vm};
      expected[{"ports", name + "-" + vm + "-port"}] = {id, "vm:" + vm};
    }
    for (const auto& [vol, vm] : shape.volumes)
      expected[{"volumes", name + "-" + vol}] = {id, "volume:" + vol};
  }
  auto installation = db.query_value("SELECT id FROM installation");
  // Everything the cloud holds beyond its baseline is expected, once, and carries all three
  // ownership marks: its deployment, its logical name and this installation. Router ports are
  // Neutron's own, unmarked, and checked through their router.
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const char* coll : collections)
    for (const auto& r : st[coll].GetArray()) {
      auto id = str(r, "id");
      if (baseline.at(coll).count(id) > 0) continue;
      auto owner = owner_of(r);
      std::string what = std::string{coll} + " " + str(r, "name") + " (" + id + ")";
      if (std::string{coll} == "ports" && str(r, "device_owner").rfind("network:router", 0) == 0) {
        const auto* router = cloud.find("routers", str(r, "device_id"));
        BOOST_TEST_CHECK((router != nullptr && names.count(owner_of(*router)) > 0),
                         what << " belongs to no router of a deployment");
        continue;
      }
      auto key = std::make_pair(std::string{coll}, str(r, "name"));
      auto i = expected.find(key);
      BOOST_TEST_CHECK((i != expected.end()),
                       what << " is no deployment's, owner '" << owner << "'");
      if (i == expected.end()) continue;
      const auto& [want_owner, want_logical] = i->second;
      BOOST_TEST_CHECK(owner == want_owner,
                       what << " carries owner '" << owner << "', not " << want_owner);
      BOOST_TEST_CHECK(mark(r, "orch-resource") == want_logical, what << " is marked as '"
                                                                      << mark(r, "orch-resource")
                                                                      << "', not " << want_logical);
      BOOST_TEST_CHECK(mark(r, "orch-installation") == installation,
                       what << " is marked for installation '" << mark(r, "orch-installation")
                            << "', not " << installation);
      ++seen[key];
    }
  for (const auto& [key, want] : expected)
    BOOST_TEST_CHECK(seen[key] == 1, "deployment " << want.first << " has " << seen[key] << " "
                                                   << key.first << " named " << key.second);

  const auto* external = cloud.first_named("networks", shape.external_network);
  for (const auto& [id, name] : names) {
    const auto* net = cloud.first_named("networks", name + "-net");
    auto net_id = net == nullptr ? std::string{} : str(*net, "id");
    for (const auto& s : shape.subnets) {
      const auto* subnet = cloud.first_named("subnets", name + "-" + s);
      BOOST_TEST_CHECK((subnet != nullptr && str(*subnet, "network_id") == net_id),
                       "subnet " << name << "-" << s << " is not on network " << net_id);
    }
    for (const auto& vm : shape.vms) {
      const auto* server = cloud.first_named("servers", name + "-" + vm);
      if (server == nullptr) continue; // reported above
      BOOST_TEST_CHECK(str(*server, "status") == "ACTIVE",
                       "server " << name << "-" << vm << " is " << str(*server, "status"));
      // Exactly one port per server: the one it was booted with, on the deployment's network.
      auto ports = cloud.ports_of(str(*server, "id"), "compute:nova");
      BOOST_TEST_CHECK(ports.size() == 1u,
                       "server " << name << "-" << vm << " has " << ports.size() << " ports");
      for (const auto* p : ports)
        BOOST_TEST_CHECK(
          (str(*p, "name") == name + "-" + vm + "-port" && str(*p, "network_id") == net_id),
          "server " << name << "-" << vm << " has port " << str(*p, "name") << " on network "
                    << str(*p, "network_id"));
    }
    for (const auto& [vol, vm] : shape.volumes) {
      const auto* volume = cloud.first_named("volumes", name + "-" + vol);
      const auto* server = cloud.first_named("servers", name + "-" + vm);
      if (volume == nullptr || server == nullptr) continue; // reported above
      auto on = attached_servers(*volume);
      BOOST_TEST_CHECK(
        (str(*volume, "status") == "in-use" && on.size() == 1u && on.front() == str(*server, "id")),
        "volume " << name << "-" << vol << " is " << str(*volume, "status") << " on " << on.size()
                  << " servers, not on " << name << "-" << vm << " (" << str(*server, "id") << ")");
    }
    if (!shape.router) continue;
    const auto* router = cloud.first_named("routers", name + "-router");
    if (router == nullptr) continue; // reported above
    auto router_id = str(*router, "id");
    auto interfaces = cloud.ports_of(router_id, "network:router_interface");
    BOOST_TEST_CHECK(interfaces.size() == shape.subnets.size(),
                     "router " << name << "-router has " << interfaces.size() << " interfaces");
    for (const auto& s : shape.subnets) {
      const auto* subnet = cloud.first_named("subnets", name + "-" + s);
      BOOST_TEST_CHECK((subnet != nullptr && cloud.has_interface(router_id, str(*subnet, "id"))),
                       "router " << name << "-router has no interface on " << name << "-" << s);
    }
    auto gateways = cloud.ports_of(router_id, "network:router_gateway");
    auto want_gateway = shape.external_network.empty() ? 0u : 1u;
    BOOST_TEST_CHECK(gateways.size() == want_gateway,
                     "router " << name << "-router has " << gateways.size() << " gateway ports");
    BOOST_TEST_CHECK(has_gateway(*router) == (want_gateway == 1u),
                     "router " << name << "-router: gateway set is " << has_gateway(*router));
    for (const auto* g : gateways)
      BOOST_TEST_CHECK((external != nullptr && str(*g, "network_id") == str(*external, "id")),
                       "gateway of " << name << "-router is on network " << str(*g, "network_id"));
  }

  // The totals, derived from the template: nothing beyond the expected shape per deployment.
  auto added = [&](const char* coll) {
    return static_cast<std::size_t>(
      std::count_if(st[coll].GetArray().begin(), st[coll].GetArray().end(),
                    [&](const auto& r) { return baseline.at(coll).count(str(r, "id")) == 0; }));
  };
  auto n = names.size();
  BOOST_TEST(added("servers") == n * shape.vms.size());
  BOOST_TEST(added("volumes") == n * shape.volumes.size());
  BOOST_TEST(added("ports") == n * shape.ports());
  BOOST_TEST(added("networks") == n);
  BOOST_TEST(added("subnets") == n * shape.subnets.size());
  BOOST_TEST(added("routers") == (shape.router ? n : 0u));
}

void crash_fixture::check_nothing_left(const rapidjson::Document& st) const {
  for (const char* coll : collections)
    for (const auto& r : st[coll].GetArray()) {
      auto id = str(r, "id");
      BOOST_TEST_CHECK(baseline.at(coll).count(id) == 1u,
                       coll << " " << str(r, "name") << " (" << id << ") is left, owner '"
                            << owner_of(r) << "', device '" << str(r, "device_id") << "'");
    }
}

} // namespace orch::testing::crash
