#include "orch/cluster/membership.hpp"

#include <algorithm>
#include <future>
#include <memory>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "orch/errc.hpp"
#include "orch/logging.hpp"
#include "orch/time.hpp"

namespace orch::cluster {

namespace {

std::shared_ptr<spdlog::logger> log() {
  return orch::logger("orch.cluster");
}

} // namespace

membership::membership(membership_config cfg, persistence::cluster_repository& repo,
                       actors::node_engine& engine, prometheus::Registry* registry)
  : cfg_(std::move(cfg)), repo_(repo), engine_(engine), guard_(cfg_.timing, now()) {
  if (registry != nullptr) {
    nodes_gauge_ = &prometheus::BuildGauge()
                      .Name("cluster_nodes")
                      .Help("Live cluster nodes (heartbeat within a lease period), this one "
                            "included, as of this node's last heartbeat")
                      .Register(*registry)
                      .Add({});
    leases_gauge_ = &prometheus::BuildGauge()
                       .Name("cluster_leases_held")
                       .Help("Deployment leases this node held at its last heartbeat")
                       .Register(*registry)
                       .Add({});
  }
}

membership::~membership() {
  stop();
}

void membership::start() {
  {
    std::lock_guard guard{mtx_};
    if (thread_.joinable()) return;
  }
  beat();
  std::lock_guard guard{mtx_};
  stopping_ = false;
  thread_ = std::thread{[this] { run(); }};
}

void membership::stop() {
  {
    std::lock_guard guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

caf::expected<int64_t> membership::leave() {
  auto n = repo_.leave(cfg_.node_id);
  if (n)
    log()->info("node {} left the cluster, handing over {} lease(s)", cfg_.node_id, *n);
  else
    log()->error("node {} could not hand over its leases ({}); they run out within {} ms",
                 cfg_.node_id, error_detail(n.error()), cfg_.timing.lease.count());
  return n;
}

lease_guard::clock::time_point membership::now() const {
  return cfg_.clock ? cfg_.clock() : lease_guard::clock::now();
}

void membership::run() {
  // `start` sent the first one.
  auto next = lease_guard::clock::now() + cfg_.timing.heartbeat;
  for (;;) {
    {
      std::unique_lock lock{mtx_};
      wake_.wait_until(lock, next, [this] { return stopping_ || beat_now_; });
      if (stopping_) return;
      beat_now_ = false;
    }
    beat();
    next += cfg_.timing.heartbeat;
    // A slow heartbeat does not make the next ones bunch up.
    next = std::max(next, lease_guard::clock::now());
  }
}

membership_health membership::fresh_readiness(std::chrono::milliseconds patience) {
  auto health = readiness();
  if (health.ok) return health;
  {
    std::unique_lock lock{mtx_};
    if (!thread_.joinable() || stopping_) return health;
    auto seen = beats_;
    beat_now_ = true;
    wake_.notify_all();
    beaten_.wait_for(lock, patience, [&] { return beats_ > seen || stopping_; });
  }
  return readiness();
}

std::vector<uuid> membership::running_deployments() {
  auto answer = std::make_shared<std::promise<caf::expected<std::vector<uuid>>>>();
  auto result = answer->get_future();
  engine_.running(
    [answer](caf::expected<std::vector<uuid>> ids) { answer->set_value(std::move(ids)); });
  // A busy engine must not delay the renewal: the previous list is good enough (only the
  // detection of lost leases and the keeping of passivated ones depend on it).
  if (result.wait_for(cfg_.timing.heartbeat) == std::future_status::ready)
    if (auto ids = result.get()) last_running_ = std::move(*ids);
  return last_running_;
}

void membership::beat() {
  beat_once();
  {
    std::lock_guard guard{mtx_};
    ++beats_;
  }
  beaten_.notify_all();
}

void membership::beat_once() {
  auto attempt = now();
  persistence::node_heartbeat hb;
  hb.node_id = cfg_.node_id;
  hb.api_address = cfg_.api_address;
  hb.lease = cfg_.timing.lease;
  hb.running = running_deployments();
  hb.active_deployments = static_cast<int64_t>(hb.running.size());
  {
    std::lock_guard guard{mtx_};
    hb.joining = !joined_;
  }
  auto res = repo_.heartbeat(hb);
  if (!res) {
    auto failed_at = now();
    std::lock_guard guard{mtx_};
    last_error_ = error_detail(res.error());
    if (!fenced_ && guard_.must_stop(failed_at)) {
      fenced_ = true;
      log()->error(
        "node {} could not renew its leases for {} ms ({}): stopping every deployment "
        "actor before the leases run out",
        cfg_.node_id,
        std::chrono::duration_cast<std::chrono::milliseconds>(guard_.since_renewal(failed_at))
          .count(),
        last_error_);
      engine_.stop_all();
    } else if (!fenced_) {
      log()->warn("node {}: heartbeat failed ({})", cfg_.node_id, last_error_);
    }
    return;
  }
  {
    std::lock_guard guard{mtx_};
    guard_.renewed(attempt);
    if (!joined_)
      log()->info("node {} joined the cluster ({} live node(s))", cfg_.node_id, res->live_nodes);
    joined_ = true;
    if (fenced_)
      log()->info("node {} renews its leases again: resuming its deployments", cfg_.node_id);
    fenced_ = false;
    last_error_.clear();
    live_nodes_ = res->live_nodes;
    leases_ = res->leases;
  }
  if (nodes_gauge_ != nullptr) nodes_gauge_->Set(static_cast<double>(res->live_nodes));
  if (leases_gauge_ != nullptr) leases_gauge_->Set(static_cast<double>(res->leases));
  if (!res->lost.empty()) {
    log()->warn("node {} lost {} lease(s) to other nodes: stopping those deployment actors",
                cfg_.node_id, res->lost.size());
    engine_.stop(res->lost);
  }
  if (!res->claimable.empty()) {
    log()->info("node {}: {} deployment(s) without a live owner, claiming them", cfg_.node_id,
                res->claimable.size());
    // Each start claims conditionally: another node that got there first keeps it.
    for (const auto& id : res->claimable) engine_.start(id);
  }
}

membership_health membership::readiness() const {
  std::lock_guard guard{mtx_};
  auto at = now();
  if (fenced_)
    return {false,
            "fenced: node " + cfg_.node_id + " cannot renew its leases (" + last_error_ + ")"};
  if (!joined_) return {false, "joining: no heartbeat stored yet"};
  if (!guard_.healthy(at))
    return {false, "heartbeat failing: " + (last_error_.empty() ? "late" : last_error_)};
  return {true, "ok"};
}

caf::expected<std::string> membership::describe() const {
  auto nodes = repo_.nodes();
  if (!nodes) return std::move(nodes.error());
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto put = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  int64_t live = 0;
  for (const auto& n : *nodes)
    if (state_of(n.heartbeat_age, n.left_at.has_value(), cfg_.timing) == node_state::live) ++live;
  w.StartObject();
  put("node_id", cfg_.node_id);
  w.Key("heartbeat_ms");
  w.Int64(cfg_.timing.heartbeat.count());
  w.Key("lease_ms");
  w.Int64(cfg_.timing.lease.count());
  w.Key("live_nodes");
  w.Int64(live);
  w.Key("nodes");
  w.StartArray();
  for (const auto& n : *nodes) {
    w.StartObject();
    put("node_id", n.node_id);
    put("api_address", n.api_address);
    put("state", to_string(state_of(n.heartbeat_age, n.left_at.has_value(), cfg_.timing)));
    put("started_at", to_rfc3339(n.started_at));
    put("heartbeat_at", to_rfc3339(n.heartbeat_at));
    w.Key("heartbeat_age_ms");
    w.Int64(n.heartbeat_age.count());
    w.Key("active_deployments");
    w.Int64(n.active_deployments);
    w.Key("leases");
    w.Int64(n.leases);
    if (n.left_at) put("left_at", to_rfc3339(*n.left_at));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

bool membership::fenced() const {
  std::lock_guard guard{mtx_};
  return fenced_;
}

} // namespace orch::cluster
