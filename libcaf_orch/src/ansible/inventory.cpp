#include "orch/ansible/inventory.hpp"

#include <algorithm>
#include <set>

#include <arpa/inet.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace orch::ansible {

namespace {

bool is_group_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '-';
}

} // namespace

bool is_valid_group_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || name == "all" || name == "ungrouped") return false;
  auto first = name.front();
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '_'))
    return false;
  return std::all_of(name.begin(), name.end(), is_group_char);
}

bool is_ip_address(std::string_view host) noexcept {
  // inet_pton wants a NUL-terminated string and rejects anything but a bare address, so a host
  // name, a port or an option-looking string never passes.
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN || host.find('\0') != std::string_view::npos)
    return false;
  char buf[INET6_ADDRSTRLEN] = {};
  std::copy(host.begin(), host.end(), buf);
  unsigned char out[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, buf, out) == 1 || inet_pton(AF_INET6, buf, out) == 1;
}

std::vector<field_error> validate_inventory(const inventory& inv,
                                            const std::vector<std::string>& allowed) {
  std::vector<field_error> errors;
  if (inv.empty()) {
    errors.push_back({"inventory", "must name at least one group"});
    return errors;
  }
  if (inv.size() > max_inventory_groups)
    errors.push_back({"inventory", "at most " + std::to_string(max_inventory_groups) + " groups"});
  std::set<std::string_view> known{allowed.begin(), allowed.end()};
  size_t hosts = 0;
  for (const auto& [group, addrs] : inv) {
    auto path = "inventory." + group;
    if (!is_valid_group_name(group))
      errors.push_back({path, "group names must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$ and not be "
                              "'all' or 'ungrouped'"});
    if (addrs.empty()) errors.push_back({path, "must list at least one host"});
    hosts += addrs.size();
    for (size_t i = 0; i < addrs.size(); ++i) {
      auto at = path + "[" + std::to_string(i) + "]";
      if (!is_ip_address(addrs[i]))
        errors.push_back({at, "must be an IPv4 or IPv6 address"});
      else if (!known.contains(addrs[i]))
        errors.push_back({at, "is not an address of this deployment's VMs"});
    }
  }
  if (hosts > max_inventory_hosts)
    errors.push_back({"inventory", "at most " + std::to_string(max_inventory_hosts) + " hosts"});
  return errors;
}

inventory inventory_from_vms(const std::vector<vm_record>& vms) {
  inventory result;
  for (const auto& vm : vms)
    if (!vm.addresses.empty()) result[vm.group].push_back(vm.addresses.front());
  return result;
}

std::vector<std::string> vm_addresses(const std::vector<vm_record>& vms) {
  std::vector<std::string> result;
  for (const auto& vm : vms) result.insert(result.end(), vm.addresses.begin(), vm.addresses.end());
  return result;
}

std::string to_inventory_json(const inventory& inv) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> out{buf};
  out.StartObject();
  out.Key("all");
  out.StartObject();
  out.Key("children");
  out.StartObject();
  for (const auto& [group, addrs] : inv) {
    out.Key(group.data(), static_cast<rapidjson::SizeType>(group.size()));
    out.StartObject();
    out.Key("hosts");
    out.StartObject();
    for (const auto& addr : addrs) {
      out.Key(addr.data(), static_cast<rapidjson::SizeType>(addr.size()));
      out.StartObject();
      out.EndObject();
    }
    out.EndObject();
    out.EndObject();
  }
  out.EndObject();
  out.EndObject();
  out.EndObject();
  return buf.GetString();
}

std::string to_json(const inventory& inv) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> out{buf};
  out.StartObject();
  for (const auto& [group, addrs] : inv) {
    out.Key(group.data(), static_cast<rapidjson::SizeType>(group.size()));
    out.StartArray();
    for (const auto& addr : addrs)
      out.String(addr.data(), static_cast<rapidjson::SizeType>(addr.size()));
    out.EndArray();
  }
  out.EndObject();
  return buf.GetString();
}

std::optional<inventory> parse_inventory(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  inventory result;
  // Through a const reference: RapidJSON 1.1's mutable member iterators compare ambiguously
  // under C++20's reversed operators (clang's -Wambiguous-reversed-operator).
  const auto& root = doc;
  for (const auto& member : root.GetObject()) {
    if (!member.value.IsArray()) return std::nullopt;
    auto& hosts = result[{member.name.GetString(), member.name.GetStringLength()}];
    for (const auto& host : member.value.GetArray()) {
      if (!host.IsString()) return std::nullopt;
      hosts.emplace_back(host.GetString(), host.GetStringLength());
    }
  }
  return result;
}

} // namespace orch::ansible
