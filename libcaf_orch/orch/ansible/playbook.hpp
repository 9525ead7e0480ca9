#pragma once

#include <string_view>

#include <caf/error.hpp>

namespace orch::ansible {

/// Longest playbook file name accepted.
inline constexpr size_t max_playbook_name = 255;

/// Checks that `name` is a bare playbook file name inside `ANSIBLE_PLAYBOOK_DIR`:
/// `^[A-Za-z0-9_][A-Za-z0-9._-]*\.ya?ml$`, at most 255 characters. A path, `..`, an absolute
/// name or a name starting with `-` or `.` is refused with `errc::invalid_spec` naming the
/// rule; whether the file exists is for the caller to check, since that is I/O.
caf::error validate_playbook_name(std::string_view name);

} // namespace orch::ansible
