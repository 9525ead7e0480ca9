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

/// `true` if `name` is a valid VM group or subnet name: `^[a-z][a-z0-9_-]{0,31}$`.
bool is_valid_group_name(std::string_view name) noexcept;

/// `true` if `name` is a valid template name: `^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`.
bool is_valid_template_name(std::string_view name) noexcept;

/// Semantic checks of a template (API.md, "Templates"). Returns every problem at once, in
/// document order, each with a dotted field path such as `vm_config.web.count` or
/// `network_config.subnets.app`; an empty result means the template is valid.
std::vector<field_error> validate_template(const template_spec& spec);

} // namespace orch
