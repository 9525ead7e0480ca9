#include "orch/deployment/model.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <set>
#include <utility>

namespace orch {

namespace {

template <class Enum, size_t N>
std::optional<Enum> parse_name(const std::array<std::string_view, N>& names,
                               std::string_view text) {
  auto i = std::find(names.begin(), names.end(), text);
  if (i == names.end()) return std::nullopt;
  return static_cast<Enum>(i - names.begin());
}

constexpr std::array<std::string_view, 9> status_names{
  "PENDING",     "IN_PROGRESS", "COMPLETED", "FAILED",  "UPDATING",
  "CONFIGURING", "SCALING",     "DELETING",  "DELETED",
};

constexpr std::array<std::string_view, 5> operation_type_names{
  "deploy", "delete", "update", "scale", "configure",
};

constexpr std::array<std::string_view, 4> operation_status_names{
  "running",
  "succeeded",
  "failed",
  "cancelled",
};

constexpr std::array<std::string_view, 8> resource_kind_names{
  "network",          "subnet", "router", "router_gateway",
  "router_interface", "server", "volume", "volume_attachment",
};

constexpr std::array<std::string_view, 8> logical_prefixes{
  "network",           "subnet:", "router",  "router-gateway",
  "router-interface:", "vm:",     "volume:", "attachment:",
};

/// Longest flavor or image a parameter may name, as in `template.schema.json`.
constexpr size_t max_parameter_text = 255;

/// UTF-8 code points in `text`, as JSON Schema's `maxLength` counts them.
size_t code_points(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

field_error parameter_error(const std::string& name, std::string message) {
  return field_error{"parameters." + name, std::move(message)};
}

vm_group_spec* find_group(template_spec& spec, std::string_view name) {
  for (auto& [group_name, group] : spec.vm_config)
    if (group_name == name) return &group;
  return nullptr;
}

// Applies one override; the group's name is the parameter's name up to its last '_'.
void apply_parameter(template_spec& spec, const std::string& name, const parameter_value& value,
                     std::vector<field_error>& errors) {
  auto sep = name.rfind('_');
  auto* group = sep == std::string::npos ? nullptr : find_group(spec, name.substr(0, sep));
  auto field = sep == std::string::npos ? std::string{} : name.substr(sep + 1);
  if (group == nullptr || (field != "count" && field != "flavor" && field != "image")) {
    errors.push_back(parameter_error(name, "unknown parameter"));
    return;
  }
  if (field == "count") {
    auto count = std::get_if<int64_t>(&value);
    if (count == nullptr || *count < 0 || *count > 1000)
      errors.push_back(parameter_error(name, "must be an integer between 0 and 1000"));
    else if (*count < group->min_count.value_or(0))
      errors.push_back(parameter_error(name, "must not be below the group's min_count"));
    else
      group->count = static_cast<int>(*count);
    return;
  }
  auto text = std::get_if<std::string>(&value);
  if (text == nullptr || text->empty()) {
    errors.push_back(parameter_error(name, "must be a non-empty string"));
    return;
  }
  if (code_points(*text) > max_parameter_text) {
    errors.push_back(parameter_error(name, "must be at most " + std::to_string(max_parameter_text)
                                             + " characters"));
    return;
  }
  (field == "flavor" ? group->flavor : group->image) = *text;
}

} // namespace

std::string to_string(deployment_status x) {
  return std::string{status_names.at(static_cast<size_t>(x))};
}

std::optional<deployment_status> parse_deployment_status(std::string_view text) {
  return parse_name<deployment_status>(status_names, text);
}

bool is_busy(deployment_status x) noexcept {
  switch (x) {
    case deployment_status::pending:
    case deployment_status::in_progress:
    case deployment_status::updating:
    case deployment_status::configuring:
    case deployment_status::scaling:
    case deployment_status::deleting: return true;
    default: return false;
  }
}

std::string to_string(operation_type x) {
  return std::string{operation_type_names.at(static_cast<size_t>(x))};
}

std::optional<operation_type> parse_operation_type(std::string_view text) {
  return parse_name<operation_type>(operation_type_names, text);
}

std::string to_string(operation_status x) {
  return std::string{operation_status_names.at(static_cast<size_t>(x))};
}

std::optional<operation_status> parse_operation_status(std::string_view text) {
  return parse_name<operation_status>(operation_status_names, text);
}

std::string to_string(resource_kind x) {
  return std::string{resource_kind_names.at(static_cast<size_t>(x))};
}

std::optional<resource_kind> parse_resource_kind(std::string_view text) {
  return parse_name<resource_kind>(resource_kind_names, text);
}

std::variant<template_spec, std::vector<field_error>>
apply_parameters(const template_spec& base, const deployment_parameters& params,
                 const template_limits& limits) {
  auto spec = base;
  std::vector<field_error> errors;
  for (const auto& [name, value] : params) apply_parameter(spec, name, value, errors);
  if (!errors.empty()) return errors;
  if (auto too_big = check_template_size(spec, limits, "template.vm_config"); !too_big.empty())
    return too_big;
  return spec;
}

bool is_same_template(const template_spec& x, const template_spec& y) {
  auto same_volume = [](const volume_spec& a, const volume_spec& b) {
    return a.size_gb == b.size_gb && a.type == b.type;
  };
  auto same_group = [&](const auto& a, const auto& b) {
    const auto& [a_name, ga] = a;
    const auto& [b_name, gb] = b;
    return a_name == b_name && ga.flavor == gb.flavor && ga.image == gb.image
           && ga.count == gb.count && ga.min_count == gb.min_count
           && std::equal(ga.volumes.begin(), ga.volumes.end(), gb.volumes.begin(), gb.volumes.end(),
                         same_volume);
  };
  const auto& xn = x.network_config;
  const auto& yn = y.network_config;
  return x.name == y.name && x.description == y.description
         && std::equal(x.vm_config.begin(), x.vm_config.end(), y.vm_config.begin(),
                       y.vm_config.end(), same_group)
         && xn.cidr == yn.cidr && xn.subnets == yn.subnets && xn.router == yn.router
         && xn.external_network == yn.external_network;
}

bool operator==(const deployment_record& x, const deployment_record& y) {
  return x.id == y.id && x.name == y.name && x.status == y.status
         && is_same_template(x.spec, y.spec) && x.template_id == y.template_id
         && x.parameters == y.parameters && x.cloud_region == y.cloud_region
         && x.resources == y.resources && x.operation == y.operation && x.intents == y.intents
         && x.epoch == y.epoch && x.created_at == y.created_at && x.updated_at == y.updated_at
         && x.deleted_at == y.deleted_at && x.generation == y.generation
         && x.vm_high_water == y.vm_high_water;
}

std::string network_name(std::string_view deployment) {
  return std::string{deployment} + "-net";
}

std::string subnet_name(std::string_view deployment, std::string_view subnet) {
  return std::string{deployment} + "-" + std::string{subnet};
}

std::string router_name(std::string_view deployment) {
  return std::string{deployment} + "-router";
}

std::string vm_name(std::string_view deployment, std::string_view group, int index) {
  return std::string{deployment} + "-" + std::string{group} + "-" + std::to_string(index);
}

std::string volume_name(std::string_view vm_cloud_name, int k) {
  return std::string{vm_cloud_name} + "-vol" + std::to_string(k);
}

std::string logical_name(resource_kind kind, std::string_view suffix) {
  return std::string{logical_prefixes.at(static_cast<size_t>(kind))} + std::string{suffix};
}

std::vector<std::string> ownership_tags(const uuid& deployment, std::string_view logical,
                                        std::string_view installation) {
  std::vector<std::string> tags{std::string{deployment_tag_key} + "=" + to_string(deployment),
                                std::string{resource_tag_key} + "=" + std::string{logical}};
  if (!installation.empty())
    tags.push_back(std::string{installation_tag_key} + "=" + std::string{installation});
  return tags;
}

std::map<std::string, std::string> ownership_metadata(const uuid& deployment,
                                                      std::string_view logical,
                                                      std::string_view installation) {
  std::map<std::string, std::string> metadata{
    {std::string{deployment_tag_key}, to_string(deployment)},
    {std::string{resource_tag_key}, std::string{logical}}};
  if (!installation.empty())
    metadata.emplace(std::string{installation_tag_key}, std::string{installation});
  return metadata;
}

std::vector<std::string> identity_tags(const std::vector<std::string>& tags) {
  std::vector<std::string> result;
  auto prefix = std::string{installation_tag_key} + "=";
  for (const auto& tag : tags)
    if (tag.rfind(prefix, 0) != 0) result.push_back(tag);
  return result;
}

std::map<std::string, std::string>
identity_metadata(const std::map<std::string, std::string>& metadata) {
  auto result = metadata;
  result.erase(std::string{installation_tag_key});
  return result;
}

std::optional<std::pair<std::string, int>> parse_vm_suffix(std::string_view suffix) {
  auto dash = suffix.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == suffix.size()) return std::nullopt;
  int index = 0;
  auto digits = suffix.substr(dash + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc{} || end != digits.data() + digits.size() || index < 1) return std::nullopt;
  return std::pair{std::string{suffix.substr(0, dash)}, index};
}

std::optional<std::pair<std::string, int>> parse_volume_suffix(std::string_view suffix) {
  auto mark = suffix.rfind("-vol");
  if (mark == std::string_view::npos || mark == 0) return std::nullopt;
  int k = 0;
  auto digits = suffix.substr(mark + 4);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || k < 1)
    return std::nullopt;
  return std::pair{std::string{suffix.substr(0, mark)}, k};
}

std::string to_string(change_action x) {
  switch (x) {
    case change_action::create: return "create";
    case change_action::remove: return "delete";
    case change_action::resize: return "resize";
    case change_action::rebuild: return "rebuild";
  }
  return "create";
}

namespace {

// Group -> the indexes of the VMs the deployment has in it: recorded, or announced by an open
// create intent.
std::map<std::string, std::set<int>> vm_members(const deployment_record& rec) {
  std::map<std::string, std::set<int>> members;
  for (const auto& vm : rec.resources.vms) members[vm.group].insert(vm.index);
  for (const auto& intent : rec.intents) {
    if (intent.kind != resource_kind::server) continue;
    auto logical = std::string_view{intent.logical_name};
    if (auto vm = parse_vm_suffix(logical.substr(logical.find(':') + 1)))
      members[vm->first].insert(vm->second);
  }
  return members;
}

} // namespace

std::vector<desired_vm> desired_vms(const deployment_record& rec) {
  std::vector<desired_vm> out;
  if (rec.status == deployment_status::deleting || rec.status == deployment_status::deleted)
    return out;
  auto members = vm_members(rec);
  for (const auto& [group, g] : rec.spec.vm_config) {
    const auto& have = members[group];
    auto high = have.empty() ? 0 : *have.rbegin();
    if (auto i = rec.vm_high_water.find(group); i != rec.vm_high_water.end())
      high = std::max(high, i->second);
    int taken = 0;
    for (auto index : have) {
      if (taken == g.count) break;
      out.push_back(desired_vm{group, index});
      ++taken;
    }
    for (; taken < g.count; ++taken) out.push_back(desired_vm{group, ++high});
  }
  return out;
}

std::vector<planned_change> plan_changes(const deployment_record& rec) {
  const auto& res = rec.resources;
  auto suffix_of
    = [](const std::string& group, int index) { return group + "-" + std::to_string(index); };
  std::set<std::pair<std::string, int>> wanted;
  for (const auto& vm : desired_vms(rec)) wanted.emplace(vm.group, vm.index);
  // Indexes built once, so that the plan costs O(n log n) in the deployment's size.
  std::map<std::string, const vm_record*> recorded_vms;
  for (const auto& vm : res.vms) recorded_vms.emplace(suffix_of(vm.group, vm.index), &vm);
  std::set<std::string> recorded_volumes;
  std::map<std::string, std::vector<const volume_record*>> volumes_of;
  for (const auto& vol : res.volumes) {
    recorded_volumes.insert(vol.name);
    volumes_of[vol.vm].push_back(&vol);
  }
  auto change = [&](change_action action, resource_kind kind, const std::string& group, int index,
                    int k) {
    auto suffix = suffix_of(group, index);
    if (kind == resource_kind::volume) suffix += "-vol" + std::to_string(k);
    return planned_change{
      action, kind, logical_name(kind, suffix), rec.name + "-" + suffix, group, index, k, {}, {}};
  };
  auto has_intent = [&](const std::string& group, int index) {
    auto logical = logical_name(resource_kind::server, suffix_of(group, index));
    return std::any_of(rec.intents.begin(), rec.intents.end(), [&](const open_intent& x) {
      return x.kind == resource_kind::server && x.logical_name == logical;
    });
  };
  std::vector<planned_change> removals;
  std::vector<planned_change> creates;
  std::vector<planned_change> volume_creates;
  std::vector<planned_change> updates;
  // Recorded VMs, and VMs with an open create intent, that are no longer desired. Highest
  // index first within a group, as scale-in removes them.
  // A volume whose server is already gone still names it.
  auto members = vm_members(rec);
  std::map<std::string, std::pair<std::string, int>> volume_k;
  for (const auto& vol : res.volumes) {
    auto volume = parse_volume_suffix(std::string_view{vol.name}.substr(rec.name.size() + 1));
    auto vm = volume ? parse_vm_suffix(volume->first) : std::nullopt;
    if (!vm) continue;
    members[vm->first].insert(vm->second);
    volume_k.emplace(vol.name, std::pair{vol.vm, volume->second});
  }
  std::map<std::string, std::set<int, std::greater<>>> unwanted;
  for (const auto& [group, indexes] : members)
    for (auto index : indexes)
      if (wanted.count({group, index}) == 0) unwanted[group].insert(index);
  for (const auto& [group, indexes] : unwanted)
    for (auto index : indexes) {
      if (auto i = volumes_of.find(vm_name(rec.name, group, index)); i != volumes_of.end())
        for (const auto* vol : i->second)
          if (auto k = volume_k.find(vol->name); k != volume_k.end())
            removals.push_back(
              change(change_action::remove, resource_kind::volume, group, index, k->second.second));
      if (recorded_vms.count(suffix_of(group, index)) > 0 || has_intent(group, index))
        removals.push_back(change(change_action::remove, resource_kind::server, group, index, 0));
    }
  for (const auto& vm : desired_vms(rec)) {
    const auto& g
      = std::find_if(rec.spec.vm_config.begin(), rec.spec.vm_config.end(), [&](const auto& x) {
          return x.first == vm.group;
        })->second;
    auto found = recorded_vms.find(suffix_of(vm.group, vm.index));
    if (found == recorded_vms.end()) {
      creates.push_back(
        change(change_action::create, resource_kind::server, vm.group, vm.index, 0));
    } else {
      const auto& have = *found->second;
      if (have.flavor != g.flavor) {
        auto x = change(change_action::resize, resource_kind::server, vm.group, vm.index, 0);
        x.from = have.flavor;
        x.to = g.flavor;
        updates.push_back(std::move(x));
      }
      if (have.image != g.image) {
        auto x = change(change_action::rebuild, resource_kind::server, vm.group, vm.index, 0);
        x.from = have.image;
        x.to = g.image;
        updates.push_back(std::move(x));
      }
    }
    for (int k = 1; k <= static_cast<int>(g.volumes.size()); ++k) {
      auto x = change(change_action::create, resource_kind::volume, vm.group, vm.index, k);
      if (recorded_volumes.count(x.cloud_name) == 0) volume_creates.push_back(std::move(x));
    }
  }
  removals.insert(removals.end(), creates.begin(), creates.end());
  removals.insert(removals.end(), volume_creates.begin(), volume_creates.end());
  removals.insert(removals.end(), updates.begin(), updates.end());
  return removals;
}

std::string subnet_of_group(const template_spec& spec, std::string_view group) {
  const auto& subnets = spec.network_config.subnets;
  for (const auto& [name, cidr] : subnets)
    if (name == group) return name;
  return subnets.empty() ? std::string{} : subnets.front().first;
}

} // namespace orch
