#include "orch/deployment/events.hpp"

#include <algorithm>
#include <utility>

namespace orch {

namespace {

template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};

template <class... Fs>
overload(Fs...) -> overload<Fs...>;

// VMs and volumes are found by cloud name: `<deployment>-<logical suffix>`.
std::string cloud_name_of(const deployment_record& state, resource_kind kind,
                          std::string_view logical) {
  return state.name + "-" + std::string{logical_suffix(kind, logical)};
}

vm_record* find_vm(deployment_record& state, const std::string& cloud_name) {
  auto& vms = state.resources.vms;
  auto i = std::find_if(vms.begin(), vms.end(), [&](auto& vm) { return vm.name == cloud_name; });
  return i == vms.end() ? nullptr : &*i;
}

volume_record* find_volume(deployment_record& state, const std::string& cloud_name) {
  auto& vols = state.resources.volumes;
  auto i = std::find_if(vols.begin(), vols.end(), [&](auto& v) { return v.name == cloud_name; });
  return i == vols.end() ? nullptr : &*i;
}

void close_intent(deployment_record& state, resource_kind kind, std::string_view logical) {
  std::erase_if(state.intents,
                [&](const open_intent& x) { return x.kind == kind && x.logical_name == logical; });
}

void erase_value(std::vector<std::string>& xs, const std::string& x) {
  std::erase(xs, x);
}

void add_unique(std::vector<std::string>& xs, const std::string& x) {
  if (std::find(xs.begin(), xs.end(), x) == xs.end()) xs.push_back(x);
}

// The attachment `attachment:<s>` links volume `<deployment>-<s>` to its VM.
void set_attached(deployment_record& state, std::string_view logical, bool attached) {
  auto* vol = find_volume(state, cloud_name_of(state, resource_kind::volume_attachment, logical));
  if (vol == nullptr) return;
  vol->attached = attached;
  if (auto* vm = find_vm(state, vol->vm)) {
    if (attached)
      add_unique(vm->volume_ids, vol->id);
    else
      erase_value(vm->volume_ids, vol->id);
  }
}

void raise_high_water(deployment_record& state, const std::string& group, int index) {
  auto& high = state.vm_high_water[group];
  high = std::max(high, index);
}

void upsert_vm(deployment_record& state, const resource_created& ev) {
  raise_high_water(state, ev.group, ev.index);
  vm_record vm{ev.id, ev.cloud_name, ev.group, ev.index, ev.status, ev.flavor, ev.image, {}, {}};
  if (auto* old = find_vm(state, ev.cloud_name))
    *old = std::move(vm);
  else
    state.resources.vms.push_back(std::move(vm));
}

void upsert_volume(deployment_record& state, const resource_created& ev) {
  volume_record vol{ev.id, ev.cloud_name, ev.vm, ev.size_gb, ev.status, false};
  if (auto* old = find_volume(state, ev.cloud_name))
    *old = std::move(vol);
  else
    state.resources.volumes.push_back(std::move(vol));
}

void on_created(deployment_record& state, const resource_created& ev) {
  auto& res = state.resources;
  auto suffix = std::string{logical_suffix(ev.kind, ev.logical_name)};
  switch (ev.kind) {
    case resource_kind::network: res.network_id = ev.id; break;
    case resource_kind::subnet: res.subnet_ids[suffix] = ev.id; break;
    case resource_kind::router: res.router_id = ev.id; break;
    case resource_kind::router_gateway: res.router_gateway = true; break;
    case resource_kind::router_interface: add_unique(res.router_interfaces, suffix); break;
    case resource_kind::server: upsert_vm(state, ev); break;
    case resource_kind::volume: upsert_volume(state, ev); break;
    case resource_kind::volume_attachment: set_attached(state, ev.logical_name, true); break;
  }
  close_intent(state, ev.kind, ev.logical_name);
}

void on_ready(deployment_record& state, const resource_ready& ev) {
  auto cloud_name = cloud_name_of(state, ev.kind, ev.logical_name);
  if (ev.kind == resource_kind::server) {
    if (auto* vm = find_vm(state, cloud_name)) {
      vm->status = ev.status;
      vm->addresses = ev.addresses;
    }
  } else if (ev.kind == resource_kind::volume) {
    if (auto* vol = find_volume(state, cloud_name)) vol->status = ev.status;
  }
}

void remove_volume(deployment_record& state, const std::string& cloud_name) {
  auto* vol = find_volume(state, cloud_name);
  if (vol == nullptr) return;
  if (auto* vm = find_vm(state, vol->vm)) erase_value(vm->volume_ids, vol->id);
  std::erase_if(state.resources.volumes, [&](auto& v) { return v.name == cloud_name; });
}

void on_deleted(deployment_record& state, const resource_deleted& ev) {
  auto& res = state.resources;
  auto suffix = std::string{logical_suffix(ev.kind, ev.logical_name)};
  switch (ev.kind) {
    case resource_kind::network: res.network_id.clear(); break;
    case resource_kind::subnet: res.subnet_ids.erase(suffix); break;
    case resource_kind::router: res.router_id.clear(); break;
    case resource_kind::router_gateway: res.router_gateway = false; break;
    case resource_kind::router_interface: erase_value(res.router_interfaces, suffix); break;
    case resource_kind::server: {
      auto cloud_name = cloud_name_of(state, ev.kind, ev.logical_name);
      std::erase_if(res.vms, [&](auto& vm) { return vm.name == cloud_name; });
      break;
    }
    case resource_kind::volume:
      remove_volume(state, cloud_name_of(state, ev.kind, ev.logical_name));
      break;
    case resource_kind::volume_attachment: set_attached(state, ev.logical_name, false); break;
  }
  close_intent(state, ev.kind, ev.logical_name);
}

void on_intent(deployment_record& state, const intent_recorded& ev) {
  if (ev.kind == resource_kind::server
      && (ev.action == intent_action::resize || ev.action == intent_action::rebuild)) {
    if (auto* vm = find_vm(state, cloud_name_of(state, ev.kind, ev.logical_name)))
      vm->status = ev.action == intent_action::resize ? "RESIZE" : "REBUILD";
    return;
  }
  if (ev.action != intent_action::create || find_intent(state, ev.kind, ev.logical_name)) return;
  if (ev.kind == resource_kind::server)
    if (auto vm = parse_vm_suffix(logical_suffix(ev.kind, ev.logical_name)))
      raise_high_water(state, vm->first, vm->second);
  state.intents.push_back(open_intent{ev.kind, ev.logical_name, ev.cloud_name, ev.tags});
}

void on_changed(deployment_record& state, const resource_changed& ev) {
  if (ev.kind != resource_kind::server) return;
  auto* vm = find_vm(state, cloud_name_of(state, ev.kind, ev.logical_name));
  if (vm == nullptr) return;
  vm->status = ev.status;
  vm->flavor = ev.flavor;
  vm->image = ev.image;
  if (!ev.addresses.empty()) vm->addresses = ev.addresses;
}

} // namespace

std::string to_string(intent_action x) {
  switch (x) {
    case intent_action::create: return "create";
    case intent_action::remove: return "delete";
    case intent_action::resize: return "resize";
    case intent_action::rebuild: return "rebuild";
  }
  return "create";
}

std::optional<intent_action> parse_intent_action(std::string_view text) {
  if (text == "create") return intent_action::create;
  if (text == "delete") return intent_action::remove;
  if (text == "resize") return intent_action::resize;
  if (text == "rebuild") return intent_action::rebuild;
  return std::nullopt;
}

std::string event_type(const event_data& x) {
  return std::visit(overload{
                      [](const status_changed&) { return "status_changed"; },
                      [](const operation_started&) { return "operation_started"; },
                      [](const operation_finished&) { return "operation_finished"; },
                      [](const intent_recorded&) { return "intent"; },
                      [](const resource_created&) { return "resource_created"; },
                      [](const resource_ready&) { return "resource_ready"; },
                      [](const resource_deleted&) { return "resource_deleted"; },
                      [](const retry_scheduled&) { return "retry"; },
                      [](const error_reported&) { return "error"; },
                      [](const desired_changed&) { return "desired_changed"; },
                      [](const resource_changed&) { return "resource_changed"; },
                    },
                    x);
}

const open_intent* find_intent(const deployment_record& state, resource_kind kind,
                               std::string_view logical) {
  for (const auto& x : state.intents)
    if (x.kind == kind && x.logical_name == logical) return &x;
  return nullptr;
}

bool needs_snapshot(const std::vector<deployment_event>& batch, int64_t events_since_snapshot,
                    int64_t every) {
  auto changes_status = std::any_of(batch.begin(), batch.end(), [](const deployment_event& ev) {
    return std::holds_alternative<status_changed>(ev.data);
  });
  return changes_status || events_since_snapshot + static_cast<int64_t>(batch.size()) >= every;
}

std::string_view logical_suffix(resource_kind kind, std::string_view logical) {
  auto prefix = logical_name(kind);
  if (logical.substr(0, prefix.size()) == prefix) logical.remove_prefix(prefix.size());
  return logical;
}

void apply(deployment_record& state, const deployment_event& ev) {
  std::visit(
    overload{
      [&](const status_changed& x) {
        state.status = x.to;
        if (x.to == deployment_status::deleted) state.deleted_at = ev.at;
      },
      [&](const operation_started& x) {
        state.operation = operation_record{x.type, operation_status::running, ev.at, {}, {}};
      },
      [&](const operation_finished& x) {
        if (!state.operation) state.operation = operation_record{};
        state.operation->status = x.status;
        state.operation->finished_at = ev.at;
        state.operation->error = x.error;
      },
      [&](const intent_recorded& x) { on_intent(state, x); },
      [&](const resource_created& x) { on_created(state, x); },
      [&](const resource_ready& x) { on_ready(state, x); },
      [&](const resource_deleted& x) { on_deleted(state, x); },
      [](const retry_scheduled&) {
        // nop: audit only
      },
      [](const error_reported&) {
        // nop: audit only
      },
      [&](const desired_changed& x) {
        state.generation = x.generation;
        state.parameters = x.parameters;
        state.spec = x.spec;
      },
      [&](const resource_changed& x) { on_changed(state, x); },
    },
    ev.data);
  state.updated_at = ev.at;
  if (ev.seq > 0) state.last_seq = ev.seq;
}

deployment_record fold(deployment_record base, const std::vector<deployment_event>& tail) {
  for (const auto& ev : tail) apply(base, ev);
  return base;
}

} // namespace orch
