#pragma once

// An in-memory cloud behind the `cloud_commands` port: answers synchronously (or holds the
// answers until released), keeps every resource with its tags, and counts creates, so tests
// can check that nothing is made twice and that a delete leaves nothing behind.

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "orch/actors/cloud_commands.hpp"

namespace orch::actors::testing {

class fake_cloud : public cloud_commands {
public:
  struct resource {
    resource_kind kind = resource_kind::network;
    std::string name;
    std::vector<std::string> tags;
    std::string status;
  };

  void run(const uuid&, deployment_command cmd, command_callback done) override {
    if (drop_answers > 0) {
      // The command is carried out, but its answer never reaches the caller.
      --drop_answers;
      std::visit([&](const auto& c) { exec(c); }, cmd);
      return;
    }
    bool is_wait = std::holds_alternative<wait_server_active>(cmd)
                   || std::holds_alternative<wait_volume_available>(cmd);
    if (hold || (hold_waits && is_wait)) {
      held.emplace_back(std::move(cmd), std::move(done));
      return;
    }
    std::visit([&](const auto& c) { done(exec(c)); }, cmd);
  }

  void cancel(const deployment_command& cmd) override {
    cancelled.push_back(cmd);
    std::erase_if(held, [&](const auto& x) {
      return x.first.index() == cmd.index() && logical_name_of(x.first) == logical_name_of(cmd);
    });
  }

  /// Answers every held command, including those sent while releasing.
  size_t release_all() {
    size_t n = 0;
    while (!held.empty()) {
      auto [cmd, done] = std::move(held.front());
      held.pop_front();
      std::visit([&, d = done](const auto& c) { d(exec(c)); }, cmd);
      ++n;
    }
    return n;
  }

  size_t count(resource_kind kind) const {
    return static_cast<size_t>(std::count_if(
      resources.begin(), resources.end(), [&](const auto& kv) { return kv.second.kind == kind; }));
  }

  /// Every create the cloud carried out, by kind (a lookup that found one is not counted).
  std::map<resource_kind, int> creates;
  /// Id -> resource.
  std::map<std::string, resource> resources;
  /// Router gateways, interfaces and attachments present, by logical name.
  std::map<std::string, resource_kind> links;
  /// The next `fail_boots` servers go to ERROR.
  int fail_boots = 0;
  bool hold = false;
  /// Holds only the waits (a cloud where servers take long to boot).
  bool hold_waits = false;
  std::deque<std::pair<deployment_command, command_callback>> held;
  /// The next this many commands act but never answer (lost replies).
  int drop_answers = 0;
  /// Waits given up with `cancel`.
  std::vector<deployment_command> cancelled;

private:
  static bool has_all(const std::vector<std::string>& have, const std::vector<std::string>& want) {
    return std::all_of(want.begin(), want.end(), [&](const auto& t) {
      return std::find(have.begin(), have.end(), t) != have.end();
    });
  }

  std::optional<std::string> find(resource_kind kind, const std::vector<std::string>& tags) const {
    for (const auto& [id, r] : resources)
      if (r.kind == kind && has_all(r.tags, tags)) return id;
    return std::nullopt;
  }

  input_event make(resource_kind kind, const std::string& logical, const std::string& name,
                   std::vector<std::string> tags, std::string status = {}) {
    if (auto id = find(kind, tags); id && !tags.empty())
      return create_result{kind, logical, *id, {}};
    auto id = to_string(kind) + "-" + std::to_string(++next_id_);
    resources[id] = resource{kind, name, std::move(tags), std::move(status)};
    ++creates[kind];
    return create_result{kind, logical, id, {}};
  }

  static std::vector<std::string> as_tags(const std::map<std::string, std::string>& metadata) {
    std::vector<std::string> tags;
    for (const auto& [k, v] : metadata) tags.push_back(k + "=" + v);
    return tags;
  }

  input_event exec(const record_event&) {
    return step_failed{resource_kind::network, {}, "internal", "record_event", {}};
  }

  input_event exec(const find_by_tag& c) {
    return lookup_result{c.kind, c.logical_name, find(c.kind, c.tags), {}};
  }

  input_event exec(const create_network& c) {
    return make(resource_kind::network, c.logical_name, c.spec.name, c.tags);
  }

  input_event exec(const create_subnet& c) {
    return make(resource_kind::subnet, c.logical_name, c.spec.name, c.tags);
  }

  input_event exec(const create_router& c) {
    return make(resource_kind::router, c.logical_name, c.spec.name, c.tags);
  }

  input_event exec(const set_router_gateway& c) {
    links[c.logical_name] = resource_kind::router_gateway;
    return create_result{resource_kind::router_gateway, c.logical_name, {}, {}};
  }

  input_event exec(const add_router_interface& c) {
    links[c.logical_name] = resource_kind::router_interface;
    return create_result{
      resource_kind::router_interface, c.logical_name, "port-" + c.subnet_id, {}};
  }

  input_event exec(const create_server& c) {
    std::string status = "BUILD";
    if (!find(resource_kind::server, c.spec.tags) && fail_boots > 0) {
      --fail_boots;
      status = "ERROR";
    }
    return make(resource_kind::server, c.logical_name, c.spec.name, c.spec.tags, status);
  }

  input_event exec(const wait_server_active& c) {
    auto i = resources.find(c.server_id);
    if (i == resources.end())
      return step_failed{resource_kind::server, c.logical_name, "not_found", "gone", {}};
    if (i->second.status == "ERROR")
      return step_failed{
        resource_kind::server, c.logical_name, "server_error", "No valid host was found.", {}};
    i->second.status = "ACTIVE";
    return ready_result{resource_kind::server, c.logical_name, "ACTIVE", {"10.0.1.10"}, {}};
  }

  input_event exec(const create_volume& c) {
    return make(resource_kind::volume, c.logical_name, c.spec.name, as_tags(c.spec.metadata),
                "creating");
  }

  input_event exec(const wait_volume_available& c) {
    auto i = resources.find(c.volume_id);
    if (i == resources.end())
      return step_failed{resource_kind::volume, c.logical_name, "not_found", "gone", {}};
    i->second.status = "available";
    return ready_result{resource_kind::volume, c.logical_name, "available", {}, {}};
  }

  input_event exec(const attach_volume& c) {
    links[c.logical_name] = resource_kind::volume_attachment;
    return create_result{resource_kind::volume_attachment, c.logical_name, c.volume_id, {}};
  }

  input_event exec(const detach_volume& c) {
    links.erase(c.logical_name);
    return gone_result{resource_kind::volume_attachment, c.logical_name, {}};
  }

  input_event exec(const remove_router_interface& c) {
    links.erase(c.logical_name);
    return gone_result{resource_kind::router_interface, c.logical_name, {}};
  }

  input_event exec(const clear_router_gateway& c) {
    links.erase(c.logical_name);
    return gone_result{resource_kind::router_gateway, c.logical_name, {}};
  }

  input_event exec(const delete_resource& c) {
    resources.erase(c.id);
    return gone_result{c.kind, c.logical_name, {}};
  }

  // Servers change at once: a resize lands in VERIFY_RESIZE, a confirm or a rebuild in
  // ACTIVE. The flavor and image of a server are kept in `flavors` and `images`.
  input_event changed(const std::string& logical, const std::string& id, bool at_target) {
    auto i = resources.find(id);
    if (i == resources.end())
      return step_failed{resource_kind::server, logical, "not_found", "gone", {}};
    change_result r;
    r.logical_name = logical;
    r.status = i->second.status;
    r.at_target = at_target;
    r.addresses = {"10.0.1.10"};
    return r;
  }

  input_event exec(const resize_server& c) {
    if (resources.count(c.server_id) > 0 && flavors[c.server_id] != c.flavor) {
      ++resizes;
      resources[c.server_id].status = "VERIFY_RESIZE";
      flavors[c.server_id] = c.flavor;
    }
    return changed(c.logical_name, c.server_id, true);
  }

  input_event exec(const confirm_resize& c) {
    if (resources.count(c.server_id) > 0) resources[c.server_id].status = "ACTIVE";
    return changed(c.logical_name, c.server_id, flavors[c.server_id] == c.flavor);
  }

  input_event exec(const revert_resize& c) {
    if (resources.count(c.server_id) > 0) resources[c.server_id].status = "ACTIVE";
    flavors[c.server_id] = c.flavor;
    return changed(c.logical_name, c.server_id, true);
  }

  input_event exec(const rebuild_server& c) {
    if (resources.count(c.server_id) > 0) resources[c.server_id].status = "ACTIVE";
    images[c.server_id] = c.image;
    return changed(c.logical_name, c.server_id, true);
  }

  int next_id_ = 0;

public:
  /// Server id -> flavor and image since the last resize or rebuild.
  std::map<std::string, std::string> flavors;
  std::map<std::string, std::string> images;
  /// Resizes carried out.
  int resizes = 0;
};

} // namespace orch::actors::testing
