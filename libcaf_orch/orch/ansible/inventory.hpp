#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orch/deployment/model.hpp"
#include "orch/template_spec.hpp"

namespace orch::ansible {

/// Hosts of one configuration run: group name -> host addresses, in the order given.
using inventory = std::map<std::string, std::vector<std::string>>;

/// Most groups one inventory may have.
inline constexpr size_t max_inventory_groups = 100;

/// Most hosts one inventory may have, over all groups.
inline constexpr size_t max_inventory_hosts = 1000;

/// `true` if `name` may name an inventory group: `^[A-Za-z_][A-Za-z0-9_-]{0,63}$`, and neither
/// `all` nor `ungrouped` (Ansible's own groups).
bool is_valid_group_name(std::string_view name) noexcept;

/// `true` if `host` is a literal IPv4 or IPv6 address.
bool is_ip_address(std::string_view host) noexcept;

/// Checks an inventory given in a request: at least one group, each a valid name with 1 or
/// more IP addresses, no more than `max_inventory_groups` groups and `max_inventory_hosts`
/// hosts, and every host one of `allowed` (the deployment's VM addresses), so that a request
/// can only reach this deployment's VMs with the orchestrator's key. Each problem is reported
/// on `inventory.<group>` or `inventory.<group>[<i>]`; empty when `inv` is fine.
std::vector<field_error> validate_inventory(const inventory& inv,
                                            const std::vector<std::string>& allowed);

/// The inventory of a deployment's VMs: one group per VM group, each VM by its first (fixed)
/// address. VMs without an address yet are left out, and so are groups left empty.
inventory inventory_from_vms(const std::vector<vm_record>& vms);

/// Every address of `vms`: what `validate_inventory` allows.
std::vector<std::string> vm_addresses(const std::vector<vm_record>& vms);

/// `inv` as ansible-runner's `inventory/hosts` file in Ansible's JSON inventory format:
/// `{"all": {"children": {"<group>": {"hosts": {"<addr>": {}}}}}}`.
std::string to_inventory_json(const inventory& inv);

/// `inv` as the API shows it: `{"<group>": ["<addr>", ...]}`.
std::string to_json(const inventory& inv);

/// Reads the API shape back: an object of arrays of strings; `nullopt` for anything else.
/// Names and addresses are not checked here (`validate_inventory` does that).
std::optional<inventory> parse_inventory(std::string_view json);

} // namespace orch::ansible
