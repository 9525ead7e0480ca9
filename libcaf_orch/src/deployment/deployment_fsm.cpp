#include "orch/deployment/deployment_fsm.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "orch/errc.hpp"

namespace orch {

namespace {

template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};

template <class... Fs>
overload(Fs...) -> overload<Fs...>;

using commands = std::vector<deployment_command>;

// Links have no name or tags of their own and are found through their parents.
bool is_link(resource_kind kind) {
  return kind == resource_kind::router_gateway || kind == resource_kind::router_interface
         || kind == resource_kind::volume_attachment;
}

// Servers, volumes and attachments come and go with updates; the rest is the network.
bool is_network_kind(resource_kind kind) {
  return kind != resource_kind::server && kind != resource_kind::volume
         && kind != resource_kind::volume_attachment;
}

// A resize or rebuild is under way: the recorded status names the step that comes next.
bool is_changing(const std::string& status) {
  return status == "RESIZE" || status == "VERIFY_RESIZE" || status == "REVERT_RESIZE"
         || status == "REBUILD";
}

// Any non-empty marker stands for "this link exists" where the record keeps no id.
const std::string present = "present";

caf::error unknown_resource(const std::string& logical) {
  return make_error(errc::not_found, "deployment has no resource '" + logical + "'");
}

caf::error unexpected_result(const std::string& logical) {
  return make_error(errc::conflict, "no command for '" + logical + "' is outstanding");
}

} // namespace

std::string logical_name_of(const deployment_command& cmd) {
  return std::visit(overload{
                      [](const record_event&) { return std::string{}; },
                      [](const auto& x) { return x.logical_name; },
                    },
                    cmd);
}

// -- construction and plan ----------------------------------------------------------------

deployment_fsm::deployment_fsm(deployment_record state, std::string installation)
  : state_(std::move(state)), installation_(std::move(installation)),
    plan_(make_plan(state_.spec)) {
  for (const auto& intent : state_.intents) unverified_.insert(intent.logical_name);
}

std::vector<deployment_fsm::planned> deployment_fsm::make_plan(const template_spec& spec) {
  std::vector<planned> plan;
  auto add = [&](resource_kind kind, std::string suffix) {
    plan.push_back(planned{kind, logical_name(kind, suffix), {}, 0, 0});
  };
  const auto& net = spec.network_config;
  add(resource_kind::network, "");
  for (const auto& [name, cidr] : net.subnets) add(resource_kind::subnet, name);
  if (net.router) {
    add(resource_kind::router, "");
    if (!net.external_network.empty()) add(resource_kind::router_gateway, "");
    for (const auto& [name, cidr] : net.subnets) add(resource_kind::router_interface, name);
  }
  return plan;
}

std::optional<deployment_fsm::planned>
deployment_fsm::find_planned(resource_kind kind, const std::string& logical) const {
  auto suffix = logical_suffix(kind, logical);
  std::optional<std::pair<std::string, int>> vm;
  int k = 0;
  switch (kind) {
    case resource_kind::server: vm = parse_vm_suffix(suffix); break;
    case resource_kind::volume:
    case resource_kind::volume_attachment:
      if (auto vol = parse_volume_suffix(suffix)) {
        vm = parse_vm_suffix(vol->first);
        k = vol->second;
      }
      break;
    default: {
      auto i = std::find_if(plan_.begin(), plan_.end(),
                            [&](const planned& x) { return x.logical_name == logical; });
      if (i == plan_.end() || i->kind != kind) return std::nullopt;
      return *i;
    }
  }
  if (!vm) return std::nullopt;
  const auto& groups = state_.spec.vm_config;
  auto g = std::find_if(groups.begin(), groups.end(),
                        [&](const auto& x) { return x.first == vm->first; });
  if (g == groups.end() || k > static_cast<int>(g->second.volumes.size())) return std::nullopt;
  return planned{kind, logical, vm->first, vm->second, k};
}

bool deployment_fsm::is_known(resource_kind kind, const std::string& logical) const {
  return (is_network_kind(kind) && find_planned(kind, logical)) || is_desired(logical)
         || !recorded_id(kind, logical).empty() || find_intent(state_, kind, logical) != nullptr;
}

std::string deployment_fsm::cloud_name(resource_kind kind, const std::string& logical) const {
  auto suffix = logical_suffix(kind, logical);
  switch (kind) {
    case resource_kind::network: return network_name(state_.name);
    case resource_kind::subnet: return subnet_name(state_.name, suffix);
    case resource_kind::router: return router_name(state_.name);
    case resource_kind::server:
    case resource_kind::volume: return state_.name + "-" + std::string{suffix};
    default: return logical;
  }
}

std::string deployment_fsm::recorded_id(resource_kind kind, const std::string& logical) const {
  const auto& res = state_.resources;
  auto suffix = std::string{logical_suffix(kind, logical)};
  // Only servers, volumes and attachments scan the record: the network stages ask on every
  // input, and must not cost as much as the deployment is large.
  auto find_volume = [&] {
    auto vol_name = state_.name + "-" + suffix;
    return std::find_if(res.volumes.begin(), res.volumes.end(),
                        [&](auto& x) { return x.name == vol_name; });
  };
  switch (kind) {
    case resource_kind::network: return res.network_id;
    case resource_kind::subnet:
      return res.subnet_ids.count(suffix) > 0 ? res.subnet_ids.at(suffix) : std::string{};
    case resource_kind::router: return res.router_id;
    case resource_kind::router_gateway: return res.router_gateway ? present : std::string{};
    case resource_kind::router_interface:
      return std::find(res.router_interfaces.begin(), res.router_interfaces.end(), suffix)
                 != res.router_interfaces.end()
               ? present
               : std::string{};
    case resource_kind::server: {
      auto name = cloud_name(kind, logical);
      auto vm
        = std::find_if(res.vms.begin(), res.vms.end(), [&](auto& x) { return x.name == name; });
      return vm == res.vms.end() ? std::string{} : vm->id;
    }
    case resource_kind::volume: {
      auto vol = find_volume();
      return vol == res.volumes.end() ? std::string{} : vol->id;
    }
    case resource_kind::volume_attachment: {
      auto vol = find_volume();
      return vol != res.volumes.end() && vol->attached ? present : std::string{};
    }
  }
  return {};
}

// -- commands for planned resources ---------------------------------------------------------

deployment_command deployment_fsm::make_create(resource_kind kind,
                                               const std::string& logical) const {
  const auto& res = state_.resources;
  const auto& net = state_.spec.network_config;
  auto tags = ownership_tags(state_.id, logical, installation_);
  auto name = cloud_name(kind, logical);
  auto suffix = std::string{logical_suffix(kind, logical)};
  auto description = "orch deployment " + to_string(state_.id);
  switch (kind) {
    case resource_kind::network:
      return create_network{logical, {name, description, true, std::nullopt}, tags};
    case resource_kind::subnet: {
      openstack::subnet_spec spec;
      spec.network_id = res.network_id;
      spec.name = name;
      spec.description = description;
      for (const auto& [subnet, cidr] : net.subnets)
        if (subnet == suffix) spec.cidr = cidr;
      return create_subnet{logical, std::move(spec), tags};
    }
    case resource_kind::router:
      return create_router{logical, {name, description, std::nullopt}, tags};
    case resource_kind::router_gateway:
      return set_router_gateway{logical, res.router_id, net.external_network};
    case resource_kind::router_interface:
      return add_router_interface{logical, res.router_id, subnet_id(suffix)};
    case resource_kind::server: return make_server(*find_planned(kind, logical));
    case resource_kind::volume: return make_volume(*find_planned(kind, logical));
    case resource_kind::volume_attachment: {
      auto p = find_planned(kind, logical);
      auto server = logical_name(resource_kind::server, p->group + "-" + std::to_string(p->index));
      return attach_volume{
        logical, recorded_id(resource_kind::server, server),
        recorded_id(resource_kind::volume, logical_name(resource_kind::volume, suffix))};
    }
  }
  return record_event{};
}

deployment_command deployment_fsm::make_server(const planned& p) const {
  const auto& group = group_of(p);
  openstack::server_spec spec;
  spec.name = cloud_name(p.kind, p.logical_name);
  spec.flavor_ref = group.flavor;
  spec.image_ref = group.image;
  spec.networks.push_back(openstack::server_nic{state_.resources.network_id, {}, {}});
  spec.metadata = ownership_metadata(state_.id, p.logical_name, installation_);
  spec.tags = ownership_tags(state_.id, p.logical_name, installation_);
  return create_server{p.logical_name, std::move(spec),
                       subnet_id(subnet_of_group(state_.spec, p.group))};
}

deployment_command deployment_fsm::make_volume(const planned& p) const {
  const auto& vol = group_of(p).volumes.at(static_cast<size_t>(p.k - 1));
  openstack::volume_spec spec;
  spec.size_gb = vol.size_gb;
  spec.volume_type = vol.type;
  spec.name = cloud_name(p.kind, p.logical_name);
  spec.description = "orch deployment " + to_string(state_.id);
  spec.metadata = ownership_metadata(state_.id, p.logical_name, installation_);
  return create_volume{p.logical_name, std::move(spec)};
}

resource_created deployment_fsm::make_record(resource_kind kind, const std::string& logical,
                                             const std::string& id) const {
  resource_created ev;
  ev.kind = kind;
  ev.logical_name = logical;
  ev.cloud_name = cloud_name(kind, logical);
  ev.id = id;
  auto p = find_planned(kind, logical);
  if (!p) return ev; // a group no longer in the template: only the id is known
  if (kind == resource_kind::server) {
    const auto& group = group_of(*p);
    ev.group = p->group;
    ev.index = p->index;
    ev.flavor = group.flavor;
    ev.image = group.image;
    ev.status = "BUILD";
  } else if (kind == resource_kind::volume) {
    ev.vm = vm_name(state_.name, p->group, p->index);
    ev.size_gb = group_of(*p).volumes.at(static_cast<size_t>(p->k - 1)).size_gb;
    ev.status = "creating";
  }
  return ev;
}

const vm_group_spec& deployment_fsm::group_of(const planned& p) const {
  auto& groups = state_.spec.vm_config;
  auto i
    = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == p.group; });
  assert(i != groups.end()); // the plan is made from these groups
  return i->second;
}

std::string deployment_fsm::subnet_id(std::string_view subnet) const {
  return recorded_id(resource_kind::subnet, logical_name(resource_kind::subnet, subnet));
}

// -- helpers --------------------------------------------------------------------------------

void deployment_fsm::record(commands& out, timestamp at, event_data data) {
  deployment_event ev{0, at, std::move(data)};
  orch::apply(state_, ev);
  out.emplace_back(record_event{std::move(ev)});
}

void deployment_fsm::want(commands& out, step what, const std::string& logical,
                          deployment_command cmd) {
  if (!pending_.emplace(logical, what).second) return;
  out.push_back(std::move(cmd));
}

void deployment_fsm::want_create(commands& out, timestamp at, resource_kind kind,
                                 const std::string& logical) {
  // The pending check first: it is a map lookup, `recorded_id` a scan of the record.
  if (is_pending(logical) || !recorded_id(kind, logical).empty()) return;
  if (is_link(kind)) {
    want(out, step::link, logical, make_create(kind, logical));
    return;
  }
  auto name = cloud_name(kind, logical);
  auto tags = ownership_tags(state_.id, logical);
  if (find_intent(state_, kind, logical) == nullptr)
    record(out, at, intent_recorded{intent_action::create, kind, logical, name, tags});
  else if (unverified_.count(logical) > 0)
    return want(out, step::lookup, logical, find_by_tag{kind, logical, name, tags});
  want(out, step::create, logical, make_create(kind, logical));
}

void deployment_fsm::want_remove(commands& out, timestamp at, resource_kind kind,
                                 const std::string& logical, const std::string& id) {
  if (is_pending(logical)) return;
  auto name = cloud_name(kind, logical);
  auto tags = ownership_tags(state_.id, logical);
  record(out, at, intent_recorded{intent_action::remove, kind, logical, name, tags});
  want(out, step::remove, logical, delete_resource{kind, logical, id, tags});
}

bool deployment_fsm::want_change(commands& out, timestamp at, const vm_record& vm,
                                 const std::string& logical) {
  auto p = find_planned(resource_kind::server, logical);
  if (!p) return false;
  const auto& group = group_of(*p);
  auto resize = [&] {
    want(out, step::resize, logical, resize_server{logical, vm.id, group.flavor});
  };
  auto rebuild = [&] {
    want(out, step::rebuild, logical, rebuild_server{logical, vm.id, group.image});
  };
  // Each command reads the server before it acts, so re-issuing the step the record names
  // after a restart never resizes or rebuilds twice.
  if (vm.status == "RESIZE") {
    resize();
  } else if (vm.status == "VERIFY_RESIZE") {
    want(out, step::confirm, logical, confirm_resize{logical, vm.id, group.flavor});
  } else if (vm.status == "REVERT_RESIZE") {
    want(out, step::revert, logical, revert_resize{logical, vm.id, vm.flavor});
  } else if (vm.status == "REBUILD") {
    rebuild();
  } else if (vm.flavor != group.flavor || vm.image != group.image) {
    if (is_pending(logical)) return true;
    // The flavor first: a rebuild keeps the flavor, so one VM never has two changes out.
    auto action = vm.flavor != group.flavor ? intent_action::resize : intent_action::rebuild;
    record(out, at,
           intent_recorded{action, resource_kind::server, logical, vm.name,
                           ownership_tags(state_.id, logical)});
    if (action == intent_action::resize)
      resize();
    else
      rebuild();
  } else {
    return false;
  }
  return true;
}

void deployment_fsm::finish(commands& out, timestamp at, operation_status how, deployment_status to,
                            std::optional<operation_error> error) {
  record(out, at, operation_finished{how, std::move(error)});
  record(out, at, status_changed{state_.status, to});
}

// -- advancing ------------------------------------------------------------------------------

commands deployment_fsm::advance(timestamp at) {
  if (state_.status == deployment_status::in_progress
      || state_.status == deployment_status::updating
      || state_.status == deployment_status::scaling)
    return advance_deploy(at);
  if (state_.status == deployment_status::deleting) return advance_delete(at);
  return {};
}

commands deployment_fsm::advance_deploy(timestamp at) {
  commands out;
  // Each network stage starts once everything of the stage before it is recorded.
  auto stage = [&](std::initializer_list<resource_kind> kinds) {
    bool done = true;
    for (const auto& p : plan_) {
      if (std::find(kinds.begin(), kinds.end(), p.kind) == kinds.end()) continue;
      if (recorded_id(p.kind, p.logical_name).empty()) {
        done = false;
        want_create(out, at, p.kind, p.logical_name);
      }
    }
    return done;
  };
  if (!stage({resource_kind::network}) || !stage({resource_kind::subnet})
      || !stage({resource_kind::router})
      || !stage({resource_kind::router_gateway, resource_kind::router_interface}))
    return out;
  const auto& res = state_.resources;
  desired_.clear();
  for (const auto& vm : desired_vms(state_)) {
    auto suffix = vm.group + "-" + std::to_string(vm.index);
    desired_.insert(logical_name(resource_kind::server, suffix));
    const auto& g = std::find_if(state_.spec.vm_config.begin(), state_.spec.vm_config.end(),
                                 [&](const auto& x) { return x.first == vm.group; })
                      ->second;
    for (int k = 1; k <= static_cast<int>(g.volumes.size()); ++k) {
      auto vol = suffix + "-vol" + std::to_string(k);
      desired_.insert(logical_name(resource_kind::volume, vol));
      desired_.insert(logical_name(resource_kind::volume_attachment, vol));
    }
  }
  bool done = true;
  // An open create intent of something no longer desired may stand for a resource that
  // exists: it is looked up, and what is found is deleted with the rest.
  for (const auto& intent : std::vector<open_intent>{state_.intents})
    if (!is_network_kind(intent.kind) && !is_link(intent.kind)
        && !is_desired(intent.logical_name)) {
      done = false;
      want(out, step::lookup, intent.logical_name,
           find_by_tag{intent.kind, intent.logical_name, intent.cloud_name, intent.tags});
    }
  // Servers and volumes go in parallel; removals detach a volume before deleting it, and
  // delete a server once its volumes are gone.
  std::set<std::string> vms_with_volumes;
  for (const auto& vol : res.volumes) vms_with_volumes.insert(vol.vm);
  for (const auto& change : plan_changes(state_)) {
    if (change.action == change_action::resize || change.action == change_action::rebuild)
      continue; // they depend on the VM's recorded status: see below
    done = false;
    if (change.action == change_action::create) {
      want_create(out, at, change.kind, change.logical_name);
      continue;
    }
    auto id = recorded_id(change.kind, change.logical_name);
    if (id.empty()) continue; // an open intent: its lookup is out
    if (change.kind == resource_kind::volume) {
      auto attachment = logical_name(resource_kind::volume_attachment,
                                     logical_suffix(change.kind, change.logical_name));
      auto server_id = recorded_id(
        resource_kind::server,
        logical_name(resource_kind::server, change.group + "-" + std::to_string(change.index)));
      if (!recorded_id(resource_kind::volume_attachment, attachment).empty())
        want(out, step::unlink, attachment, detach_volume{attachment, server_id, id});
      else if (!is_pending(attachment))
        want_remove(out, at, change.kind, change.logical_name, id);
      continue;
    }
    if (vms_with_volumes.count(change.cloud_name) == 0)
      want_remove(out, at, change.kind, change.logical_name, id);
  }
  // Waits, resizes and rebuilds of what is desired and recorded (a copy: intents change the
  // record).
  for (const auto& vm : std::vector<vm_record>{res.vms}) {
    auto logical = logical_name(resource_kind::server, vm.group + "-" + std::to_string(vm.index));
    if (!is_desired(logical)) continue;
    if (vm.status == "ACTIVE" || is_changing(vm.status)) {
      if (want_change(out, at, vm, logical)) done = false;
      continue;
    }
    done = false;
    want(out, step::wait, logical, wait_server_active{logical, vm.id});
  }
  std::map<std::string, const vm_record*> vm_by_name;
  for (const auto& vm : res.vms) vm_by_name.emplace(vm.name, &vm);
  for (const auto& vol : res.volumes) {
    auto suffix = vol.name.substr(state_.name.size() + 1);
    auto logical = logical_name(resource_kind::volume, suffix);
    if (vol.attached || !is_desired(logical)) continue;
    done = false;
    if (vol.status != "available") {
      want(out, step::wait, logical, wait_volume_available{logical, vol.id});
      continue;
    }
    auto vm = vm_by_name.find(vol.vm);
    if (vm != vm_by_name.end() && vm->second->status == "ACTIVE")
      want_create(out, at, resource_kind::volume_attachment,
                  logical_name(resource_kind::volume_attachment, suffix));
  }
  if (done && pending_.empty() && state_.intents.empty())
    finish(out, at, operation_status::succeeded, deployment_status::completed);
  return out;
}

commands deployment_fsm::advance_delete(timestamp at) {
  commands out;
  const auto& res = state_.resources;
  auto remove = [&](resource_kind kind, const std::string& logical, const std::string& id) {
    want_remove(out, at, kind, logical, id);
  };
  // An open create intent may stand for a resource that exists without a record.
  for (const auto& intent : state_.intents)
    want(out, step::lookup, intent.logical_name,
         find_by_tag{intent.kind, intent.logical_name, intent.cloud_name, intent.tags});
  bool any_attached = false;
  for (const auto& vol : std::vector<volume_record>{res.volumes}) {
    auto suffix = vol.name.substr(state_.name.size() + 1);
    auto server_id
      = recorded_id(resource_kind::server, "vm:" + vol.vm.substr(state_.name.size() + 1));
    auto attachment = logical_name(resource_kind::volume_attachment, suffix);
    if (vol.attached) {
      any_attached = true;
      want(out, step::unlink, attachment, detach_volume{attachment, server_id, vol.id});
    } else if (is_pending(attachment)) {
      any_attached = true; // the attach in flight is answered first
    } else {
      remove(resource_kind::volume, logical_name(resource_kind::volume, suffix), vol.id);
    }
  }
  if (!any_attached)
    for (const auto& vm : std::vector<vm_record>{res.vms})
      remove(resource_kind::server,
             logical_name(resource_kind::server, vm.name.substr(state_.name.size() + 1)), vm.id);
  // The network goes last, and only once no create or link of the cancelled operation can
  // still add something to it.
  auto link_in_flight = std::any_of(pending_.begin(), pending_.end(),
                                    [](const auto& x) { return x.second == step::link; });
  if (!res.vms.empty() || !res.volumes.empty() || !state_.intents.empty() || link_in_flight)
    return out;
  for (const auto& subnet : res.router_interfaces) {
    auto logical = logical_name(resource_kind::router_interface, subnet);
    want(out, step::unlink, logical,
         remove_router_interface{logical, res.router_id,
                                 res.subnet_ids.count(subnet) > 0 ? res.subnet_ids.at(subnet)
                                                                  : std::string{}});
  }
  if (res.router_gateway) {
    auto logical = logical_name(resource_kind::router_gateway);
    want(out, step::unlink, logical, clear_router_gateway{logical, res.router_id});
  }
  if (!res.router_interfaces.empty() || res.router_gateway) return out;
  if (!res.router_id.empty()) {
    remove(resource_kind::router, logical_name(resource_kind::router), res.router_id);
    return out;
  }
  for (const auto& [subnet, id] : std::map<std::string, std::string>{res.subnet_ids})
    remove(resource_kind::subnet, logical_name(resource_kind::subnet, subnet), id);
  if (!res.subnet_ids.empty()) return out;
  if (!res.network_id.empty()) {
    remove(resource_kind::network, logical_name(resource_kind::network), res.network_id);
    return out;
  }
  if (pending_.empty()) finish(out, at, operation_status::succeeded, deployment_status::deleted);
  return out;
}

// -- inputs ---------------------------------------------------------------------------------

caf::expected<commands> deployment_fsm::apply(const input_event& ev) {
  return std::visit([this](const auto& x) { return on(x); }, ev);
}

caf::expected<commands> deployment_fsm::on(const start_deploy& ev) {
  if (state_.status != deployment_status::pending)
    return make_error(errc::conflict,
                      "cannot deploy a deployment that is " + to_string(state_.status));
  commands out;
  record(out, ev.at, operation_started{operation_type::deploy});
  record(out, ev.at, status_changed{state_.status, deployment_status::in_progress});
  auto next = advance(ev.at);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

caf::expected<commands> deployment_fsm::on(const start_delete& ev) {
  if (state_.status == deployment_status::deleted)
    return make_error(errc::not_found, "deployment is already DELETED");
  if (state_.status == deployment_status::deleting)
    return make_error(errc::conflict, "deployment is already being deleted");
  commands out;
  if (state_.operation && state_.operation->status == operation_status::running)
    record(out, ev.at, operation_finished{operation_status::cancelled, std::nullopt});
  // Waits of the cancelled operation no longer matter; creates and links in flight do, since
  // their answers name resources that must be deleted too.
  std::erase_if(pending_, [](const auto& x) { return x.second == step::wait; });
  record(out, ev.at, operation_started{operation_type::remove});
  record(out, ev.at, status_changed{state_.status, deployment_status::deleting});
  auto next = advance(ev.at);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

caf::expected<commands> deployment_fsm::on(const start_update& ev) {
  if (state_.status != deployment_status::completed && state_.status != deployment_status::failed) {
    auto running = state_.operation ? to_string(state_.operation->type) : std::string{"none"};
    return make_error(errc::conflict, "deployment is " + to_string(state_.status) + " (operation '"
                                        + running + "' is running)");
  }
  if (ev.type != operation_type::update && ev.type != operation_type::scale)
    return make_error(errc::invalid_spec, "start_update takes an update or a scale");
  commands out;
  record(out, ev.at, desired_changed{state_.generation + 1, ev.parameters, ev.spec});
  record(out, ev.at, operation_started{ev.type});
  record(out, ev.at,
         status_changed{state_.status, ev.type == operation_type::scale
                                         ? deployment_status::scaling
                                         : deployment_status::updating});
  plan_ = make_plan(state_.spec);
  // A failed operation may have left creates whose outcome nobody saw: look them up before
  // creating anything of the same name.
  for (const auto& intent : state_.intents) unverified_.insert(intent.logical_name);
  auto next = advance(ev.at);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

caf::expected<commands> deployment_fsm::on(const resume& ev) {
  return advance(ev.at);
}

caf::expected<commands> deployment_fsm::on(const lookup_result& ev) {
  if (!is_known(ev.kind, ev.logical_name)) return unknown_resource(ev.logical_name);
  auto i = pending_.find(ev.logical_name);
  if (i == pending_.end() || i->second != step::lookup) {
    if (ev.id && recorded_id(ev.kind, ev.logical_name) == *ev.id) return commands{};
    return unexpected_result(ev.logical_name);
  }
  pending_.erase(i);
  unverified_.erase(ev.logical_name);
  commands out;
  if (ev.id)
    record(out, ev.at, make_record(ev.kind, ev.logical_name, *ev.id));
  else if (state_.status == deployment_status::deleting
           || (!is_network_kind(ev.kind) && !is_desired(ev.logical_name)))
    record(out, ev.at, resource_deleted{ev.kind, ev.logical_name, {}});
  auto next = advance(ev.at);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

caf::expected<commands> deployment_fsm::on(const create_result& ev) {
  if (!is_known(ev.kind, ev.logical_name)) return unknown_resource(ev.logical_name);
  auto i = pending_.find(ev.logical_name);
  if (i == pending_.end() || (i->second != step::create && i->second != step::link)) {
    auto recorded = recorded_id(ev.kind, ev.logical_name);
    if (!recorded.empty() && (is_link(ev.kind) || recorded == ev.id)) return commands{};
    return unexpected_result(ev.logical_name);
  }
  pending_.erase(i);
  commands out;
  record(out, ev.at, make_record(ev.kind, ev.logical_name, ev.id));
  auto next = advance(ev.at);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

caf::expected<commands> deployment_fsm::on(const ready_result& ev) {
  if (!is_known(ev.kind, ev.logical_name)) return unknown_resource(ev.logical_name);
  auto i = pending_.find(ev.logical_name);
  // A late or repeated answer of a wait changes nothing.
  if (i == pending_.end() || i->second != step::wait) return commands{};
  pending_.erase(i);
  commands out;
  record(out, ev.at, resource_ready{ev.kind, ev.logical_name, ev.status, ev.addresses});
  auto next = advance(ev.at);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

caf::expected<commands> deployment_fsm::on(const gone_result& ev) {
  if (!is_known(ev.kind, ev.logical_name)) return unknown_resource(ev.logical_name);
  auto i = pending_.find(ev.logical_name);
  if (i == pending_.end() || (i->second != step::remove && i->second != step::unlink)) {
    if (recorded_id(ev.kind, ev.logical_name).empty()) return commands{};
    return unexpected_result(ev.logical_name);
  }
  pending_.erase(i);
  commands out;
  auto id = recorded_id(ev.kind, ev.logical_name);
  record(out, ev.at, resource_deleted{ev.kind, ev.logical_name, is_link(ev.kind) ? "" : id});
  auto next = advance(ev.at);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

caf::expected<commands> deployment_fsm::on(const step_failed& ev) {
  if (!is_known(ev.kind, ev.logical_name)) return unknown_resource(ev.logical_name);
  auto i = pending_.find(ev.logical_name);
  if (i == pending_.end()) return unexpected_result(ev.logical_name);
  auto what = i->second;
  pending_.erase(i);
  commands out;
  bool leftover = what == step::create || what == step::wait || what == step::link
                  || what == step::resize || what == step::confirm || what == step::revert
                  || what == step::rebuild;
  if (state_.status == deployment_status::deleting && leftover) {
    // A step of the cancelled operation: its open intent, if any, is looked up next.
    auto next = advance(ev.at);
    out.insert(out.end(), next.begin(), next.end());
    return out;
  }
  if (is_busy(state_.status) && state_.status != deployment_status::pending)
    finish(out, ev.at, operation_status::failed, deployment_status::failed,
           operation_error{ev.code, ev.message, cloud_name(ev.kind, ev.logical_name)});
  return out;
}

caf::expected<commands> deployment_fsm::on(const start_configure& ev) {
  // A FAILED deployment may lack VMs or addresses: it is repaired (or deleted) first.
  if (state_.status != deployment_status::completed)
    return make_error(errc::conflict,
                      "cannot configure a deployment that is " + to_string(state_.status));
  commands out;
  record(out, ev.at, operation_started{operation_type::configure});
  record(out, ev.at, status_changed{state_.status, deployment_status::configuring});
  return out;
}

caf::expected<commands> deployment_fsm::on(const configure_finished& ev) {
  if (state_.status != deployment_status::configuring)
    return make_error(errc::conflict,
                      "no configuration run to finish: deployment is " + to_string(state_.status));
  commands out;
  if (ev.error) record(out, ev.at, error_reported{*ev.error});
  if (!ev.failed && !ev.interrupted)
    finish(out, ev.at, operation_status::succeeded, deployment_status::completed);
  else
    finish(out, ev.at, operation_status::failed,
           ev.interrupted ? deployment_status::completed : deployment_status::failed, ev.error);
  return out;
}

caf::expected<commands> deployment_fsm::on(const change_result& ev) {
  auto kind = resource_kind::server;
  if (!is_known(kind, ev.logical_name)) return unknown_resource(ev.logical_name);
  auto i = pending_.find(ev.logical_name);
  if (i == pending_.end()
      || (i->second != step::resize && i->second != step::confirm && i->second != step::revert
          && i->second != step::rebuild))
    return commands{}; // a late or repeated answer changes nothing
  auto what = i->second;
  pending_.erase(i);
  auto name = cloud_name(kind, ev.logical_name);
  const auto& vms = state_.resources.vms;
  auto vm = std::find_if(vms.begin(), vms.end(), [&](const auto& x) { return x.name == name; });
  commands out;
  auto carry_on = [&] {
    auto next = advance(ev.at);
    out.insert(out.end(), next.begin(), next.end());
    return out;
  };
  if (vm == vms.end()) return carry_on();
  // The record keeps the flavor the server runs on for good: the new one once the resize is
  // confirmed (or found done), the old one while it awaits confirmation or after a revert.
  auto flavor = vm->flavor;
  auto image = vm->image;
  auto vm_id = vm->id;
  if (auto p = find_planned(kind, ev.logical_name); p && ev.at_target) {
    if ((what == step::resize || what == step::confirm) && ev.status == "ACTIVE")
      flavor = group_of(*p).flavor;
    if (what == step::rebuild) image = group_of(*p).image;
  }
  auto deleting = state_.status == deployment_status::deleting;
  auto failed = !ev.code.empty();
  operation_error error{ev.code, ev.message, name};
  if (failed && ev.status == "VERIFY_RESIZE" && what != step::revert && !deleting) {
    // Nova can still take the resize back: the server returns to its old flavor, then the
    // operation fails with this error.
    record(out, ev.at, error_reported{error});
    record(out, ev.at,
           resource_changed{kind, ev.logical_name, "REVERT_RESIZE", flavor, image, ev.addresses});
    revert_reasons_[ev.logical_name] = error;
    want(out, step::revert, ev.logical_name, revert_resize{ev.logical_name, vm_id, flavor});
    return out;
  }
  record(out, ev.at,
         resource_changed{kind, ev.logical_name, ev.status, flavor, image, ev.addresses});
  if (deleting) return carry_on();
  if (what == step::revert && !failed) {
    failed = true;
    auto reason = revert_reasons_.find(ev.logical_name);
    error = reason != revert_reasons_.end()
              ? reason->second
              : operation_error{"resize_reverted", "the resize of " + name + " was reverted", name};
    error.message += " (resize reverted: " + name + " is " + ev.status + " on " + flavor + ")";
  } else if (!failed && ev.status == "VERIFY_RESIZE") {
    // The confirm comes next, also once another VM's failure has ended the operation: no
    // server is left awaiting confirmation.
    auto p = find_planned(kind, ev.logical_name);
    if (is_busy(state_.status) || !p) return carry_on();
    want(out, step::confirm, ev.logical_name,
         confirm_resize{ev.logical_name, vm_id, group_of(*p).flavor});
    return out;
  } else if (!failed && (ev.status != "ACTIVE" || !ev.at_target)) {
    failed = true;
    auto rebuilt = what == step::rebuild;
    error = operation_error{rebuilt ? "rebuild_failed" : "resize_failed",
                            name + " is " + ev.status + " on " + (rebuilt ? image : flavor)
                              + " after the " + (rebuilt ? "rebuild" : "resize"),
                            name};
  }
  if (what == step::revert) revert_reasons_.erase(ev.logical_name);
  if (!failed) return carry_on();
  if (is_busy(state_.status) && state_.status != deployment_status::pending)
    finish(out, ev.at, operation_status::failed, deployment_status::failed, std::move(error));
  return out;
}

} // namespace orch
