#include "orch/openstack/responses.hpp"

#include "json.hpp"

namespace orch::openstack {

namespace {

using namespace detail;

std::vector<fixed_ip> read_fixed_ips(const json_value& obj, const char* key,
                                     const std::string& path) {
  std::vector<fixed_ip> result;
  if (find(obj, key) == nullptr) return result;
  for_each_item(obj, key, path, [&](const json_value& item, const std::string& p) {
    result.push_back(
      fixed_ip{optional_string(item, "subnet_id", p), optional_string(item, "ip_address", p)});
  });
  return result;
}

network read_network(const json_value& obj, const std::string& path) {
  network result;
  result.id = require_string(obj, "id", path);
  result.name = optional_string(obj, "name", path);
  result.status = optional_string(obj, "status", path);
  result.subnet_ids = optional_strings(obj, "subnets", path);
  result.tags = optional_strings(obj, "tags", path);
  result.external = optional_bool(obj, "router:external", path);
  return result;
}

subnet read_subnet(const json_value& obj, const std::string& path) {
  subnet result;
  result.id = require_string(obj, "id", path);
  result.name = optional_string(obj, "name", path);
  result.network_id = require_string(obj, "network_id", path);
  result.cidr = require_string(obj, "cidr", path);
  result.ip_version = optional_int(obj, "ip_version", path, 4);
  result.gateway_ip = optional_string(obj, "gateway_ip", path);
  if (find(obj, "allocation_pools") != nullptr)
    for_each_item(obj, "allocation_pools", path, [&](const json_value& item, const std::string& p) {
      result.allocation_pools.push_back(
        allocation_pool{require_string(item, "start", p), require_string(item, "end", p)});
    });
  result.tags = optional_strings(obj, "tags", path);
  return result;
}

router read_router(const json_value& obj, const std::string& path) {
  router result;
  result.id = require_string(obj, "id", path);
  result.name = optional_string(obj, "name", path);
  result.status = optional_string(obj, "status", path);
  if (auto* gw = find(obj, "external_gateway_info")) {
    auto gw_path = child_path(path, "external_gateway_info");
    if (!gw->IsObject()) throw shape_error{gw_path, "expected an object"};
    result.external_network_id = optional_string(*gw, "network_id", gw_path);
    result.external_fixed_ips = read_fixed_ips(*gw, "external_fixed_ips", gw_path);
  }
  result.tags = optional_strings(obj, "tags", path);
  return result;
}

port read_port(const json_value& obj, const std::string& path) {
  port result;
  result.id = require_string(obj, "id", path);
  result.name = optional_string(obj, "name", path);
  result.network_id = optional_string(obj, "network_id", path);
  result.device_id = optional_string(obj, "device_id", path);
  result.device_owner = optional_string(obj, "device_owner", path);
  result.status = optional_string(obj, "status", path);
  result.fixed_ips = read_fixed_ips(obj, "fixed_ips", path);
  result.tags = optional_strings(obj, "tags", path);
  return result;
}

/// `image` is an object with an id, or "" for boot-from-volume.
std::string read_image_ref(const json_value& obj, const std::string& path) {
  auto* x = find(obj, "image");
  if (x == nullptr) return {};
  if (x->IsString()) return {x->GetString(), x->GetStringLength()};
  if (!x->IsObject())
    throw shape_error{child_path(path, "image"), "expected an object or a string"};
  return optional_string(*x, "id", child_path(path, "image"));
}

server read_server(const json_value& obj, const std::string& path) {
  server result;
  result.id = require_string(obj, "id", path);
  result.name = optional_string(obj, "name", path);
  result.status = require_string(obj, "status", path);
  result.vm_state = optional_string(obj, "OS-EXT-STS:vm_state", path);
  result.task_state = optional_string(obj, "OS-EXT-STS:task_state", path);
  if (auto* fl = find(obj, "flavor")) {
    auto fl_path = child_path(path, "flavor");
    if (!fl->IsObject()) throw shape_error{fl_path, "expected an object"};
    result.flavor_id = optional_string(*fl, "id", fl_path);
    result.flavor_name = optional_string(*fl, "original_name", fl_path);
  }
  result.image_id = read_image_ref(obj, path);
  result.key_name = optional_string(obj, "key_name", path);
  if (auto* addresses = find(obj, "addresses")) {
    auto a_path = child_path(path, "addresses");
    if (!addresses->IsObject()) throw shape_error{a_path, "expected an object"};
    for (auto net = addresses->MemberBegin(); net != addresses->MemberEnd(); ++net) {
      std::string net_name{net->name.GetString(), net->name.GetStringLength()};
      auto n_path = child_path(a_path, net_name);
      if (!net->value.IsArray()) throw shape_error{n_path, "expected an array"};
      for (rapidjson::SizeType i = 0; i < net->value.Size(); ++i) {
        const auto& item = net->value[i];
        auto i_path = index_path(n_path, i);
        if (!item.IsObject()) throw shape_error{i_path, "expected an object"};
        server_address addr;
        addr.network = net_name;
        addr.addr = require_string(item, "addr", i_path);
        addr.version = optional_int(item, "version", i_path, 4);
        addr.type = optional_string(item, "OS-EXT-IPS:type", i_path);
        addr.mac = optional_string(item, "OS-EXT-IPS-MAC:mac_addr", i_path);
        result.addresses.push_back(std::move(addr));
      }
    }
  }
  result.metadata = optional_string_map(obj, "metadata", path);
  result.tags = optional_strings(obj, "tags", path);
  result.created = optional_time(obj, "created", path);
  result.updated = optional_time(obj, "updated", path);
  if (auto* fault = find(obj, "fault")) {
    auto f_path = child_path(path, "fault");
    if (!fault->IsObject()) throw shape_error{f_path, "expected an object"};
    result.fault_code = optional_int(*fault, "code", f_path);
    result.fault_message = optional_string(*fault, "message", f_path);
  }
  return result;
}

volume_attachment read_volume_attachment(const json_value& obj, const std::string& path) {
  volume_attachment result;
  result.volume_id = require_string(obj, "volumeId", path);
  result.server_id = optional_string(obj, "serverId", path);
  result.device = optional_string(obj, "device", path);
  result.tag = optional_string(obj, "tag", path);
  result.delete_on_termination = optional_bool(obj, "delete_on_termination", path);
  return result;
}

flavor read_flavor(const json_value& obj, const std::string& path) {
  flavor result;
  result.id = require_string(obj, "id", path);
  result.name = require_string(obj, "name", path);
  result.vcpus = optional_int(obj, "vcpus", path);
  result.ram_mb = optional_int(obj, "ram", path);
  result.disk_gb = optional_int(obj, "disk", path);
  result.is_public = optional_bool(obj, "os-flavor-access:is_public", path, true);
  return result;
}

volume read_volume(const json_value& obj, const std::string& path) {
  volume result;
  result.id = require_string(obj, "id", path);
  result.name = optional_string(obj, "name", path);
  result.status = require_string(obj, "status", path);
  result.size_gb = optional_int(obj, "size", path);
  result.bootable = optional_bool(obj, "bootable", path);
  if (find(obj, "attachments") != nullptr)
    for_each_item(obj, "attachments", path, [&](const json_value& item, const std::string& p) {
      result.attachments.push_back(volume_server_attachment{
        optional_string(item, "server_id", p), optional_string(item, "attachment_id", p),
        optional_string(item, "device", p)});
    });
  result.metadata = optional_string_map(obj, "metadata", path);
  return result;
}

image read_image(const json_value& obj, const std::string& path) {
  image result;
  result.id = require_string(obj, "id", path);
  result.name = optional_string(obj, "name", path);
  result.status = require_string(obj, "status", path);
  result.visibility = optional_string(obj, "visibility", path);
  result.created_at = optional_time(obj, "created_at", path);
  result.min_disk_gb = optional_int(obj, "min_disk", path);
  result.min_ram_mb = optional_int(obj, "min_ram", path);
  return result;
}

template <class T, class Reader>
result<T> parse_single(std::string_view body, const char* wrapper, Reader reader) {
  return guarded<T>(body, [&](const json_value& root) {
    return reader(require_object(root, wrapper, ""), std::string{wrapper});
  });
}

template <class T, class Reader>
result<page<T>> parse_list(std::string_view body, const char* key, const char* links_key,
                           Reader reader) {
  return guarded<page<T>>(body, [&](const json_value& root) {
    page<T> result;
    for_each_item(root, key, "", [&](const json_value& item, const std::string& p) {
      result.items.push_back(reader(item, p));
    });
    result.next = next_link(root, links_key, "");
    return result;
  });
}

} // namespace

result<network> parse_network(std::string_view body) {
  return parse_single<network>(body, "network", read_network);
}

result<page<network>> parse_networks(std::string_view body) {
  return parse_list<network>(body, "networks", "networks_links", read_network);
}

result<subnet> parse_subnet(std::string_view body) {
  return parse_single<subnet>(body, "subnet", read_subnet);
}

result<page<subnet>> parse_subnets(std::string_view body) {
  return parse_list<subnet>(body, "subnets", "subnets_links", read_subnet);
}

result<router> parse_router(std::string_view body) {
  return parse_single<router>(body, "router", read_router);
}

result<page<router>> parse_routers(std::string_view body) {
  return parse_list<router>(body, "routers", "routers_links", read_router);
}

result<router_interface> parse_router_interface(std::string_view body) {
  return guarded<router_interface>(body, [](const json_value& root) {
    router_interface result;
    result.router_id = require_string(root, "id", "");
    result.port_id = require_string(root, "port_id", "");
    result.subnet_id = require_string(root, "subnet_id", "");
    result.network_id = optional_string(root, "network_id", "");
    return result;
  });
}

result<page<port>> parse_ports(std::string_view body) {
  return parse_list<port>(body, "ports", "ports_links", read_port);
}

result<std::vector<std::string>> parse_tags(std::string_view body) {
  return guarded<std::vector<std::string>>(body, [](const json_value& root) {
    require_array(root, "tags", "");
    return optional_strings(root, "tags", "");
  });
}

result<created_server> parse_server_create(std::string_view body) {
  return parse_single<created_server>(body, "server",
                                      [](const json_value& obj, const std::string& path) {
                                        return created_server{require_string(obj, "id", path)};
                                      });
}

result<server> parse_server(std::string_view body) {
  return parse_single<server>(body, "server", read_server);
}

result<page<server>> parse_servers_detail(std::string_view body) {
  return parse_list<server>(body, "servers", "servers_links", read_server);
}

result<volume_attachment> parse_volume_attachment(std::string_view body) {
  return parse_single<volume_attachment>(body, "volumeAttachment", read_volume_attachment);
}

result<std::vector<volume_attachment>> parse_volume_attachments(std::string_view body) {
  return guarded<std::vector<volume_attachment>>(body, [](const json_value& root) {
    std::vector<volume_attachment> result;
    for_each_item(root, "volumeAttachments", "", [&](const json_value& item, const std::string& p) {
      result.push_back(read_volume_attachment(item, p));
    });
    return result;
  });
}

result<page<flavor>> parse_flavors(std::string_view body) {
  return parse_list<flavor>(body, "flavors", "flavors_links", read_flavor);
}

result<volume> parse_volume(std::string_view body) {
  return parse_single<volume>(body, "volume", read_volume);
}

result<page<volume>> parse_volumes(std::string_view body) {
  return parse_list<volume>(body, "volumes", "volumes_links", read_volume);
}

result<page<image>> parse_images(std::string_view body) {
  return guarded<page<image>>(body, [](const json_value& root) {
    page<image> result;
    for_each_item(root, "images", "", [&](const json_value& item, const std::string& p) {
      result.items.push_back(read_image(item, p));
    });
    auto next = optional_string(root, "next", "");
    if (!next.empty()) result.next = std::move(next);
    return result;
  });
}

} // namespace orch::openstack
