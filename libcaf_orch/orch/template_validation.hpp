#pragma once

#include <string_view>
#include <vector>

#include "orch/template_spec.hpp"

namespace orch {

/// Largest `count` (and `min_count`) of one VM group.
inline constexpr int max_group_count = 1000;

/// Smallest and largest volume, in GiB.
inline constexpr int min_volume_gb = 1;
inline constexpr int max_volume_gb = 16384;

/// How big one deployment may be (`MAX_VM_GROUPS_PER_DEPLOYMENT`, `MAX_VMS_PER_DEPLOYMENT`),
/// so that one request cannot ask for an unbounded amount of cloud work and actor state.
struct template_limits {
  /// VM groups in `vm_config`.
  int max_vm_groups = 50;
  /// The sum of every group's `count`.
  int max_vms = 1000;
};

/// The size checks of `limits` alone, reported on `field` (e.g. `vm_config`): too many groups,
/// too many VMs in total. Empty when `spec` fits.
std::vector<field_error> check_template_size(const template_spec& spec,
                                             const template_limits& limits,
                                             std::string_view field = "vm_config");

/// `true` if `name` is a valid VM group or subnet name: `^[a-z][a-z0-9_-]{0,31}$`.
bool is_valid_group_name(std::string_view name) noexcept;

/// `true` if `name` is a valid template name: `^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`.
bool is_valid_template_name(std::string_view name) noexcept;

/// Semantic checks of a template (API.md, "Templates"). Returns every problem at once, in
/// document order, each with a dotted field path such as `vm_config.web.count` or
/// `network_config.subnets.app`; an empty result means the template is valid. Includes the size
/// checks of `limits` (`check_template_size`).
std::vector<field_error> validate_template(const template_spec& spec,
                                           const template_limits& limits = {});

} // namespace orch
