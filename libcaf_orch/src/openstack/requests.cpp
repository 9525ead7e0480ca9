#include "orch/openstack/requests.hpp"

#include <algorithm>

#include "json.hpp"
#include "orch/openstack/url.hpp"
#include "orch/time.hpp"

namespace orch::openstack {

namespace {

using namespace detail;

os_error invalid(std::string field, std::string what) {
  return os_error{
    os_error_kind::bad_request, 0, "invalid_request", field + ": " + what, std::nullopt, {}};
}

std::string finish(rapidjson::StringBuffer& buf) {
  return std::string{buf.GetString(), buf.GetSize()};
}

std::optional<os_error> check_tags(service svc, const std::vector<std::string>& tags) {
  auto max_length = svc == service::compute ? size_t{60} : size_t{255};
  if (tags.size() > 50) return invalid("tags", "at most 50 tags are allowed");
  for (size_t i = 0; i < tags.size(); ++i) {
    const auto& tag = tags[i];
    auto field = "tags[" + std::to_string(i) + "]";
    if (tag.empty() || tag.size() > max_length)
      return invalid(field, "must have 1 to " + std::to_string(max_length) + " characters");
    // Commas separate tags in filters; Nova also refuses slashes.
    if (tag.find(',') != std::string::npos) return invalid(field, "must not contain ','");
    if (svc == service::compute && tag.find('/') != std::string::npos)
      return invalid(field, "must not contain '/'");
  }
  return std::nullopt;
}

void write_string_map(json_writer& w, std::string_view key,
                      const std::map<std::string, std::string>& values) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartObject();
  for (const auto& [k, v] : values) write_member(w, k, v);
  w.EndObject();
}

void append_query(std::string& query, std::string_view key, std::string_view value) {
  if (!query.empty()) query += '&';
  query += key;
  query += '=';
  query += url_encode(value);
}

std::string join_tags(const std::vector<std::string>& tags) {
  std::string result;
  for (const auto& tag : tags) {
    if (!result.empty()) result += ',';
    result += tag;
  }
  return result;
}

} // namespace

result<std::string> build_network_create(const network_spec& spec) {
  if (spec.name.empty()) return invalid("network.name", "must not be empty");
  if (spec.mtu && *spec.mtu < 68) return invalid("network.mtu", "must be at least 68");
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("network");
  w.StartObject();
  write_member(w, "name", spec.name);
  if (!spec.description.empty()) write_member(w, "description", spec.description);
  w.Key("admin_state_up");
  w.Bool(spec.admin_state_up);
  if (spec.mtu) {
    w.Key("mtu");
    w.Int(*spec.mtu);
  }
  w.EndObject();
  w.EndObject();
  return finish(buf);
}

result<std::string> build_subnet_create(const subnet_spec& spec) {
  if (spec.network_id.empty()) return invalid("subnet.network_id", "must not be empty");
  if (spec.cidr.empty()) return invalid("subnet.cidr", "must not be empty");
  if (spec.ip_version != 4 && spec.ip_version != 6)
    return invalid("subnet.ip_version", "must be 4 or 6");
  if (spec.gateway == gateway_mode::explicit_address && spec.gateway_ip.empty())
    return invalid("subnet.gateway_ip", "must be set for an explicit gateway");
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("subnet");
  w.StartObject();
  write_member(w, "network_id", spec.network_id);
  if (!spec.name.empty()) write_member(w, "name", spec.name);
  if (!spec.description.empty()) write_member(w, "description", spec.description);
  w.Key("ip_version");
  w.Int(spec.ip_version);
  write_member(w, "cidr", spec.cidr);
  switch (spec.gateway) {
    case gateway_mode::automatic: break;
    case gateway_mode::explicit_address: write_member(w, "gateway_ip", spec.gateway_ip); break;
    case gateway_mode::none:
      w.Key("gateway_ip");
      w.Null();
      break;
  }
  if (!spec.allocation_pools.empty()) {
    w.Key("allocation_pools");
    w.StartArray();
    for (size_t i = 0; i < spec.allocation_pools.size(); ++i) {
      const auto& pool = spec.allocation_pools[i];
      if (pool.start.empty() || pool.end.empty())
        return invalid("subnet.allocation_pools[" + std::to_string(i) + "]", "needs start and end");
      w.StartObject();
      write_member(w, "start", pool.start);
      write_member(w, "end", pool.end);
      w.EndObject();
    }
    w.EndArray();
  }
  if (spec.enable_dhcp) {
    w.Key("enable_dhcp");
    w.Bool(*spec.enable_dhcp);
  }
  if (!spec.dns_nameservers.empty()) {
    w.Key("dns_nameservers");
    w.StartArray();
    for (const auto& ns : spec.dns_nameservers) write_string(w, ns);
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  return finish(buf);
}

result<std::string> build_router_create(const router_spec& spec) {
  if (spec.name.empty()) return invalid("router.name", "must not be empty");
  if (spec.external_network_id && spec.external_network_id->empty())
    return invalid("router.external_gateway_info.network_id", "must not be empty");
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("router");
  w.StartObject();
  write_member(w, "name", spec.name);
  if (!spec.description.empty()) write_member(w, "description", spec.description);
  if (spec.external_network_id) {
    w.Key("external_gateway_info");
    w.StartObject();
    write_member(w, "network_id", *spec.external_network_id);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return finish(buf);
}

std::string build_router_gateway(const std::optional<std::string>& external_network_id) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("router");
  w.StartObject();
  w.Key("external_gateway_info");
  w.StartObject();
  if (external_network_id) write_member(w, "network_id", *external_network_id);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return finish(buf);
}

std::string build_router_interface(std::string_view subnet_id) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  write_member(w, "subnet_id", subnet_id);
  w.EndObject();
  return finish(buf);
}

result<std::string> build_tags(service svc, const std::vector<std::string>& tags) {
  if (auto err = check_tags(svc, tags)) return *err;
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("tags");
  w.StartArray();
  for (const auto& tag : tags) write_string(w, tag);
  w.EndArray();
  w.EndObject();
  return finish(buf);
}

result<std::string> build_server_create(const server_spec& spec) {
  if (spec.name.empty()) return invalid("server.name", "must not be empty");
  if (spec.flavor_ref.empty()) return invalid("server.flavorRef", "must not be empty");
  auto boots_from_volume
    = std::any_of(spec.block_devices.begin(), spec.block_devices.end(),
                  [](const block_device& bd) { return bd.boot_index && *bd.boot_index == 0; });
  if (spec.image_ref.empty() && !boots_from_volume)
    return invalid("server.imageRef", "needed unless a block device has boot_index 0");
  if (auto err = check_tags(service::compute, spec.tags)) return *err;
  if (spec.metadata.size() > 128)
    return invalid("server.metadata", "at most 128 entries are allowed");
  for (const auto& [key, value] : spec.metadata)
    if (key.empty() || key.size() > 255 || value.size() > 255)
      return invalid("server.metadata", "keys need 1 to 255 characters, values at most 255");
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("server");
  w.StartObject();
  write_member(w, "name", spec.name);
  write_member(w, "flavorRef", spec.flavor_ref);
  if (!spec.image_ref.empty()) write_member(w, "imageRef", spec.image_ref);
  w.Key("networks");
  if (spec.networks.empty()) {
    w.String("none");
  } else {
    w.StartArray();
    for (size_t i = 0; i < spec.networks.size(); ++i) {
      const auto& nic = spec.networks[i];
      if (nic.network_id.empty() == nic.port_id.empty())
        return invalid("server.networks[" + std::to_string(i) + "]",
                       "needs exactly one of uuid and port");
      w.StartObject();
      if (!nic.port_id.empty())
        write_member(w, "port", nic.port_id);
      else
        write_member(w, "uuid", nic.network_id);
      if (!nic.fixed_ip.empty()) write_member(w, "fixed_ip", nic.fixed_ip);
      w.EndObject();
    }
    w.EndArray();
  }
  if (!spec.block_devices.empty()) {
    w.Key("block_device_mapping_v2");
    w.StartArray();
    for (size_t i = 0; i < spec.block_devices.size(); ++i) {
      const auto& bd = spec.block_devices[i];
      auto field = "server.block_device_mapping_v2[" + std::to_string(i) + "]";
      if (bd.uuid.empty() && bd.source_type != "blank")
        return invalid(field + ".uuid", "required unless source_type is blank");
      if (bd.volume_size_gb && *bd.volume_size_gb <= 0)
        return invalid(field + ".volume_size", "must be positive");
      w.StartObject();
      if (!bd.uuid.empty()) write_member(w, "uuid", bd.uuid);
      write_member(w, "source_type", bd.source_type);
      write_member(w, "destination_type", bd.destination_type);
      if (bd.boot_index) {
        w.Key("boot_index");
        w.Int(*bd.boot_index);
      }
      if (bd.volume_size_gb) {
        w.Key("volume_size");
        w.Int(*bd.volume_size_gb);
      }
      w.Key("delete_on_termination");
      w.Bool(bd.delete_on_termination);
      if (!bd.volume_type.empty()) write_member(w, "volume_type", bd.volume_type);
      w.EndObject();
    }
    w.EndArray();
  }
  if (!spec.metadata.empty()) write_string_map(w, "metadata", spec.metadata);
  if (!spec.tags.empty()) {
    w.Key("tags");
    w.StartArray();
    for (const auto& tag : spec.tags) write_string(w, tag);
    w.EndArray();
  }
  if (!spec.key_name.empty()) write_member(w, "key_name", spec.key_name);
  if (!spec.user_data.empty()) write_member(w, "user_data", base64_encode(spec.user_data));
  if (!spec.availability_zone.empty()) write_member(w, "availability_zone", spec.availability_zone);
  w.EndObject();
  w.EndObject();
  return finish(buf);
}

std::string to_string(server_action_kind x) {
  switch (x) {
    case server_action_kind::resize: return "resize";
    case server_action_kind::confirm_resize: return "confirm_resize";
    case server_action_kind::revert_resize: return "revert_resize";
    case server_action_kind::rebuild: return "rebuild";
  }
  return "unknown";
}

result<std::string> build_server_action(const server_action& action) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  switch (action.kind) {
    case server_action_kind::resize:
      if (action.flavor_ref.empty()) return invalid("resize.flavorRef", "must not be empty");
      w.Key("resize");
      w.StartObject();
      write_member(w, "flavorRef", action.flavor_ref);
      w.EndObject();
      break;
    case server_action_kind::confirm_resize:
      w.Key("confirmResize");
      w.Null();
      break;
    case server_action_kind::revert_resize:
      w.Key("revertResize");
      w.Null();
      break;
    case server_action_kind::rebuild:
      if (action.image_ref.empty()) return invalid("rebuild.imageRef", "must not be empty");
      w.Key("rebuild");
      w.StartObject();
      write_member(w, "imageRef", action.image_ref);
      w.EndObject();
      break;
  }
  w.EndObject();
  return finish(buf);
}

std::string build_volume_attach(std::string_view volume_id, bool delete_on_termination) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("volumeAttachment");
  w.StartObject();
  write_member(w, "volumeId", volume_id);
  w.Key("delete_on_termination");
  w.Bool(delete_on_termination);
  w.EndObject();
  w.EndObject();
  return finish(buf);
}

result<std::string> build_volume_create(const volume_spec& spec) {
  if (spec.size_gb <= 0) return invalid("volume.size", "must be positive");
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("volume");
  w.StartObject();
  w.Key("size");
  w.Int(spec.size_gb);
  if (!spec.name.empty()) write_member(w, "name", spec.name);
  if (!spec.description.empty()) write_member(w, "description", spec.description);
  if (!spec.volume_type.empty()) write_member(w, "volume_type", spec.volume_type);
  if (!spec.availability_zone.empty()) write_member(w, "availability_zone", spec.availability_zone);
  if (!spec.image_ref.empty()) write_member(w, "imageRef", spec.image_ref);
  if (!spec.metadata.empty()) write_string_map(w, "metadata", spec.metadata);
  w.EndObject();
  w.EndObject();
  return finish(buf);
}

std::string server_detail_query(const server_filters& filters) {
  std::string query;
  if (!filters.name.empty()) append_query(query, "name", anchored_regex(filters.name));
  for (const auto& status : filters.statuses) append_query(query, "status", status);
  if (!filters.tags.empty()) append_query(query, "tags", join_tags(filters.tags));
  if (filters.changes_since)
    append_query(query, "changes-since", to_rfc3339(*filters.changes_since));
  if (filters.limit > 0) append_query(query, "limit", std::to_string(filters.limit));
  return query;
}

std::string port_query(const port_filter& filter) {
  std::string query;
  if (!filter.device_id.empty()) append_query(query, "device_id", filter.device_id);
  if (!filter.network_id.empty()) append_query(query, "network_id", filter.network_id);
  if (!filter.device_owner.empty()) append_query(query, "device_owner", filter.device_owner);
  if (!filter.tags.empty()) append_query(query, "tags", join_tags(filter.tags));
  return query;
}

std::string tags_query(const std::vector<std::string>& tags) {
  std::string query;
  if (!tags.empty()) append_query(query, "tags", join_tags(tags));
  return query;
}

std::string volume_detail_query(const volume_filters& filters) {
  std::string query;
  if (!filters.name.empty()) append_query(query, "name", filters.name);
  if (!filters.status.empty()) append_query(query, "status", filters.status);
  if (!filters.metadata.empty()) {
    rapidjson::StringBuffer buf;
    json_writer w{buf};
    w.StartObject();
    for (const auto& [k, v] : filters.metadata) write_member(w, k, v);
    w.EndObject();
    append_query(query, "metadata", finish(buf));
  }
  if (filters.limit > 0) append_query(query, "limit", std::to_string(filters.limit));
  return query;
}

std::string to_string(neutron_collection x) {
  switch (x) {
    case neutron_collection::networks: return "networks";
    case neutron_collection::subnets: return "subnets";
    case neutron_collection::routers: return "routers";
    case neutron_collection::ports: return "ports";
    case neutron_collection::security_groups: return "security-groups";
  }
  return "unknown";
}

std::string anchored_regex(std::string_view text) {
  std::string result = "^";
  for (char c : text) {
    if (std::string_view{".+*?()[]{}|\\^$"}.find(c) != std::string_view::npos) result += '\\';
    result += c;
  }
  result += '$';
  return result;
}

std::string base64_encode(std::string_view data) {
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string result;
  result.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8)
                 | static_cast<uint8_t>(data[i + 2]);
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += alphabet[(n >> 6) & 63];
    result += alphabet[n & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += "==";
  } else if (i + 2 == data.size()) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8);
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += alphabet[(n >> 6) & 63];
    result += '=';
  }
  return result;
}

} // namespace orch::openstack
