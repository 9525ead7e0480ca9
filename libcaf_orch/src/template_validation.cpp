#include "orch/template_validation.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "orch/cidr.hpp"
#include "orch/errc.hpp"

namespace orch {

namespace {

bool is_lower_or_digit(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c) noexcept {
  return is_lower_or_digit(c) || (c >= 'A' && c <= 'Z');
}

constexpr std::string_view group_name_rule
  = "must match ^[a-z][a-z0-9_-]{0,31}$ (lower-case letter first, then lower-case letters, "
    "digits, '_' or '-', at most 32 characters)";

class error_list {
public:
  void add(std::string field, std::string message) {
    errors_.push_back(field_error{std::move(field), std::move(message)});
  }

  std::vector<field_error> release() { return std::move(errors_); }

private:
  std::vector<field_error> errors_;
};

void check_group(const std::string& name, const vm_group_spec& group, error_list& errors) {
  auto path = "vm_config." + name;
  if (!is_valid_group_name(name)) errors.add(path, "group name " + std::string{group_name_rule});
  if (group.flavor.empty()) errors.add(path + ".flavor", "must not be empty");
  if (group.image.empty()) errors.add(path + ".image", "must not be empty");
  bool count_ok = group.count >= 0 && group.count <= max_group_count;
  if (!count_ok)
    errors.add(path + ".count", "must be an integer 0.." + std::to_string(max_group_count));
  if (group.min_count) {
    auto min_count = *group.min_count;
    if (min_count < 0)
      errors.add(path + ".min_count", "must be an integer >= 0");
    else if (count_ok && min_count > group.count)
      errors.add(path + ".min_count", "must be <= count (" + std::to_string(group.count) + ")");
    else if (!count_ok && min_count > max_group_count)
      errors.add(path + ".min_count", "must be <= " + std::to_string(max_group_count));
  }
  for (size_t i = 0; i < group.volumes.size(); ++i) {
    auto size = group.volumes[i].size_gb;
    if (size < min_volume_gb || size > max_volume_gb)
      errors.add(path + ".volumes." + std::to_string(i) + ".size_gb",
                 "must be an integer " + std::to_string(min_volume_gb) + ".."
                   + std::to_string(max_volume_gb));
  }
}

void check_network(const network_spec& net, error_list& errors) {
  std::optional<cidr> network;
  if (auto parsed = parse_cidr(net.cidr))
    network = *parsed;
  else
    errors.add("network_config.cidr", error_detail(parsed.error()));
  std::vector<std::pair<std::string, cidr>> valid_subnets;
  std::set<std::string> seen;
  for (const auto& [name, text] : net.subnets) {
    auto path = "network_config.subnets." + name;
    if (!is_valid_group_name(name)) errors.add(path, "subnet name " + std::string{group_name_rule});
    if (!seen.insert(name).second) {
      errors.add(path, "duplicate subnet name");
      continue;
    }
    auto parsed = parse_cidr(text);
    if (!parsed) {
      errors.add(path, error_detail(parsed.error()));
      continue;
    }
    if (network) {
      if (parsed->family != network->family) {
        errors.add(path, "is " + to_string(parsed->family) + " but network_config.cidr is "
                           + to_string(network->family));
        continue;
      }
      if (!contains(*network, *parsed)) {
        errors.add(path, "must lie inside network_config.cidr " + to_string(*network));
        continue;
      }
    }
    for (const auto& [other_name, other] : valid_subnets) {
      if (other.family == parsed->family && overlaps(other, *parsed)) {
        errors.add("network_config.subnets." + other_name, "overlaps subnet " + name);
        errors.add(path, "overlaps subnet " + other_name);
      }
    }
    valid_subnets.emplace_back(name, *parsed);
  }
  if (!net.external_network.empty() && !net.router)
    errors.add("network_config.external_network", "requires router: true");
}

} // namespace

bool is_valid_group_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 32 || name[0] < 'a' || name[0] > 'z') return false;
  for (auto c : name)
    if (!is_lower_or_digit(c) && c != '_' && c != '-') return false;
  return true;
}

bool is_valid_template_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 63 || !is_alnum(name[0])) return false;
  for (auto c : name)
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

std::vector<field_error> check_template_size(const template_spec& spec,
                                             const template_limits& limits,
                                             std::string_view field) {
  error_list errors;
  auto groups = spec.vm_config.size();
  if (groups > static_cast<size_t>(std::max(0, limits.max_vm_groups)))
    errors.add(std::string{field}, "has " + std::to_string(groups) + " VM groups; at most "
                                     + std::to_string(limits.max_vm_groups) + " are allowed");
  // A count out of its own range is reported on its own field, not again in the total. 64 bits:
  // counts of at most max_group_count each cannot overflow the sum.
  long long vms = 0;
  for (const auto& [name, group] : spec.vm_config)
    if (group.count >= 0 && group.count <= max_group_count) vms += group.count;
  if (vms > limits.max_vms)
    errors.add(std::string{field}, "asks for " + std::to_string(vms) + " VMs in total; at most "
                                     + std::to_string(limits.max_vms) + " are allowed");
  return errors.release();
}

std::vector<field_error> validate_template(const template_spec& spec,
                                           const template_limits& limits) {
  error_list errors;
  if (!is_valid_template_name(spec.name))
    errors.add("name", "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ (letter or digit first, "
                       "then letters, digits, '.', '_' or '-', at most 63 characters)");
  if (spec.vm_config.empty()) errors.add("vm_config", "must define at least one VM group");
  std::set<std::string> seen;
  for (const auto& [name, group] : spec.vm_config) {
    if (!seen.insert(name).second) {
      errors.add("vm_config." + name, "duplicate group name");
      continue;
    }
    check_group(name, group, errors);
  }
  check_network(spec.network_config, errors);
  for (auto& e : check_template_size(spec, limits))
    errors.add(std::move(e.field), std::move(e.message));
  return errors.release();
}

} // namespace orch
