#include "orch/ansible/playbook.hpp"

#include <algorithm>
#include <string>

#include "orch/errc.hpp"

namespace orch::ansible {

namespace {

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
         || c == '_' || c == '-';
}

bool ends_with_yaml(std::string_view name) noexcept {
  return name.ends_with(".yml") || name.ends_with(".yaml");
}

} // namespace

caf::error validate_playbook_name(std::string_view name) {
  if (name.empty()) return make_error(errc::invalid_spec, "playbook: must not be empty");
  if (name.size() > max_playbook_name)
    return make_error(errc::invalid_spec, "playbook: at most 255 characters");
  // A separator is what turns a name into a path (absolute or with `..`): refuse it by itself,
  // whatever follows, so no later step ever joins a request path to the playbook directory.
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos)
    return make_error(errc::invalid_spec,
                      "playbook: must be a file name in the playbook directory, not a path");
  if (name == "." || name == ".." || name.find("..") != std::string_view::npos)
    return make_error(errc::invalid_spec, "playbook: must not contain '..'");
  // A leading '-' would read as an option on ansible-runner's command line, a leading '.' is a
  // hidden file nobody meant to publish.
  if (name.front() == '-' || name.front() == '.')
    return make_error(errc::invalid_spec, "playbook: must not start with '-' or '.'");
  if (!std::all_of(name.begin(), name.end(), is_name_char))
    return make_error(errc::invalid_spec,
                      "playbook: only letters, digits, '.', '_' and '-' are allowed");
  if (!ends_with_yaml(name))
    return make_error(errc::invalid_spec, "playbook: must end in .yml or .yaml");
  return {};
}

} // namespace orch::ansible
