// Nova 2.1 with microversions: servers and their state machine, actions, volume attachments,
// tags, flavors and limits. Faults are shaped as nova/api/openstack/wsgi.py shapes them.

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>

#include "service.hpp"

namespace orch::sim {

namespace {

constexpr int mv(int major, int minor) {
  return major * 1000 + minor;
}

response not_found_server(const std::string& id) {
  return nova_fault(404, "Instance " + id + " could not be found.");
}

/// Nova's `status` from vm_state and task_state (nova/api/openstack/common.py::_STATE_MAP).
std::string status_of(const server& s) {
  auto& vm = s.vm_state;
  auto& task = s.task_state;
  if (vm == "building") return "BUILD";
  if (vm == "error") return "ERROR";
  if (vm == "deleted") return "DELETED";
  if (vm == "resized") return task == "resize_reverting" ? "REVERT_RESIZE" : "VERIFY_RESIZE";
  if (task.starts_with("resize_")) return "RESIZE";
  if (task == "rebuilding") return "REBUILD";
  if (vm == "stopped") return "SHUTOFF";
  return "ACTIVE";
}

void write_link_pair(json_writer& w, impl_state& st, std::string_view kind, const std::string& id) {
  w.StartArray();
  w.StartObject();
  w.Key("href");
  write_str(w, st.cfg.base_url + "/compute/v2.1/" + std::string{kind} + "/" + id);
  w.Key("rel");
  w.String("self");
  w.EndObject();
  w.StartObject();
  w.Key("href");
  write_str(w, st.cfg.base_url + "/compute/" + std::string{kind} + "/" + id);
  w.Key("rel");
  w.String("bookmark");
  w.EndObject();
  w.EndArray();
}

void write_bookmark(json_writer& w, impl_state& st, std::string_view kind, const std::string& id) {
  w.StartArray();
  w.StartObject();
  w.Key("href");
  write_str(w, st.cfg.base_url + "/compute/" + std::string{kind} + "/" + id);
  w.Key("rel");
  w.String("bookmark");
  w.EndObject();
  w.EndArray();
}

void write_flavor(json_writer& w, impl_state& st, const flavor& f, int version, bool detail) {
  w.StartObject();
  w.Key("id");
  write_str(w, f.id);
  w.Key("links");
  write_link_pair(w, st, "flavors", f.id);
  w.Key("name");
  write_str(w, f.name);
  if (version >= mv(2, 55)) {
    w.Key("description");
    w.Null();
  }
  if (detail) {
    if (version < mv(2, 102)) {
      w.Key("OS-FLV-DISABLED:disabled");
      w.Bool(false);
      w.Key("rxtx_factor");
      w.Double(1.0);
    }
    w.Key("disk");
    w.Int(f.disk);
    w.Key("OS-FLV-EXT-DATA:ephemeral");
    w.Int(0);
    w.Key("os-flavor-access:is_public");
    w.Bool(true);
    w.Key("ram");
    w.Int(f.ram);
    w.Key("swap");
    if (version >= mv(2, 75))
      w.Int(0);
    else
      w.String("");
    w.Key("vcpus");
    w.Int(f.vcpus);
    if (version >= mv(2, 61)) {
      w.Key("extra_specs");
      w.StartObject();
      w.EndObject();
    }
  }
  w.EndObject();
}

} // namespace

void write_server(json_writer& w, impl_state& st, const server& s, const call& c) {
  int version = c.microversion == 0 ? mv(2, 1) : c.microversion;
  bool show = c.matched != nullptr && c.matched->pattern == "/compute/v2.1/servers/{id}";
  w.StartObject();
  w.Key("id");
  write_str(w, s.id);
  w.Key("name");
  write_str(w, s.name);
  w.Key("status");
  write_str(w, status_of(s));
  w.Key("tenant_id");
  write_str(w, s.project_id);
  w.Key("user_id");
  write_str(w, s.user_id);
  w.Key("metadata");
  write_map(w, s.metadata);
  w.Key("hostId");
  write_str(w, s.host_id);
  w.Key("image");
  if (s.image_id.empty()) {
    w.String("");
  } else {
    w.StartObject();
    w.Key("id");
    write_str(w, s.image_id);
    w.Key("links");
    write_bookmark(w, st, "images", s.image_id);
    if (version >= mv(2, 98)) {
      w.Key("properties");
      w.StartObject();
      w.EndObject();
    }
    w.EndObject();
  }
  w.Key("flavor");
  auto f = st.find_flavor(s.flavor_id);
  if (version >= mv(2, 47) && f != nullptr) {
    w.StartObject();
    w.Key("vcpus");
    w.Int(f->vcpus);
    w.Key("ram");
    w.Int(f->ram);
    w.Key("disk");
    w.Int(f->disk);
    w.Key("ephemeral");
    w.Int(0);
    w.Key("swap");
    w.Int(0);
    w.Key("original_name");
    write_str(w, f->name);
    w.Key("extra_specs");
    w.StartObject();
    w.EndObject();
    w.EndObject();
  } else {
    w.StartObject();
    w.Key("id");
    write_str(w, s.flavor_id);
    w.Key("links");
    write_bookmark(w, st, "flavors", s.flavor_id);
    w.EndObject();
  }
  w.Key("created");
  write_str(w, s.created);
  w.Key("updated");
  write_str(w, s.updated);
  w.Key("addresses");
  w.StartObject();
  if (s.vm_state != "building") {
    // Grouped by network name, in NIC order.
    std::vector<std::string> names;
    std::map<std::string, std::vector<std::pair<const port*, const fixed_ip*>>> by_net;
    std::vector<std::pair<const port*, const floating_ip*>> floating;
    for (auto& nic : s.nics) {
      auto p = st.ports.find(nic.port_id);
      if (p == st.ports.end()) continue;
      auto n = st.networks.find(p->second.network_id);
      auto name = n == st.networks.end() ? p->second.network_id : n->second.name;
      if (!by_net.count(name)) names.push_back(name);
      auto& list = by_net[name];
      for (auto& ip : p->second.fixed_ips) list.emplace_back(&p->second, &ip);
      for (auto& [fid, fip] : st.floating_ips)
        if (fip.port_id == p->second.id) floating.emplace_back(&p->second, &fip);
    }
    auto write_address = [&](const port& p, const std::string& addr, bool is_floating) {
      w.StartObject();
      w.Key("version");
      w.Int(addr.find(':') == std::string::npos ? 4 : 6);
      w.Key("addr");
      write_str(w, addr);
      w.Key("OS-EXT-IPS:type");
      w.String(is_floating ? "floating" : "fixed");
      w.Key("OS-EXT-IPS-MAC:mac_addr");
      write_str(w, p.mac_address);
      w.EndObject();
    };
    for (auto& name : names) {
      write_str(w, name);
      w.StartArray();
      for (auto& [p, ip] : by_net[name]) {
        write_address(*p, ip->ip_address, false);
        // A floating address follows the fixed one it maps to, as Nova lists them.
        for (auto& [fp, fip] : floating)
          if (fp == p && fip->fixed_ip_address == ip->ip_address)
            write_address(*p, fip->floating_ip_address, true);
      }
      w.EndArray();
    }
  }
  w.EndObject();
  w.Key("accessIPv4");
  w.String("");
  w.Key("accessIPv6");
  w.String("");
  w.Key("links");
  write_link_pair(w, st, "servers", s.id);
  w.Key("OS-DCF:diskConfig");
  w.String("MANUAL");
  w.Key("progress");
  w.Int(0);
  w.Key("OS-EXT-AZ:availability_zone");
  w.String(s.vm_state == "building" ? "" : "nova");
  w.Key("config_drive");
  w.String("");
  w.Key("key_name");
  write_opt(w, s.key_name);
  w.Key("OS-SRV-USG:launched_at");
  write_opt(w, s.launched_at);
  w.Key("OS-SRV-USG:terminated_at");
  w.Null();
  // Admin-only attributes: the default user holds the admin role, as in devstack.
  w.Key("OS-EXT-SRV-ATTR:host");
  if (s.host_id.empty())
    w.Null();
  else
    w.String("sim-compute-1");
  w.Key("OS-EXT-SRV-ATTR:instance_name");
  write_str(w, "instance-" + s.id.substr(0, 8));
  w.Key("OS-EXT-SRV-ATTR:hypervisor_hostname");
  if (s.host_id.empty())
    w.Null();
  else
    w.String("sim-compute-1");
  w.Key("OS-EXT-STS:task_state");
  if (s.task_state.empty())
    w.Null();
  else
    write_str(w, s.task_state);
  w.Key("OS-EXT-STS:vm_state");
  write_str(w, s.vm_state);
  w.Key("OS-EXT-STS:power_state");
  w.Int(s.power_state);
  w.Key("os-extended-volumes:volumes_attached");
  w.StartArray();
  for (auto& v : s.volumes) {
    w.StartObject();
    w.Key("id");
    write_str(w, v.volume_id);
    if (version >= mv(2, 3)) {
      w.Key("delete_on_termination");
      w.Bool(v.delete_on_termination);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("security_groups");
  w.StartArray();
  for (auto& g : s.security_groups) {
    w.StartObject();
    w.Key("name");
    write_str(w, g);
    w.EndObject();
  }
  w.EndArray();
  if (version >= mv(2, 9)) {
    w.Key("locked");
    w.Bool(false);
  }
  if (version >= mv(2, 19)) {
    w.Key("description");
    write_opt(w, s.description);
  }
  if (version >= mv(2, 26)) {
    w.Key("tags");
    write_strings(w, s.tags);
  }
  if (version >= mv(2, 63)) {
    w.Key("trusted_image_certificates");
    w.Null();
  }
  if (version >= mv(2, 71) && show) {
    w.Key("server_groups");
    w.StartArray();
    w.EndArray();
  }
  if (version >= mv(2, 73)) {
    w.Key("locked_reason");
    w.Null();
  }
  if (version >= mv(2, 90)) {
    w.Key("OS-EXT-SRV-ATTR:hostname");
    write_str(w, s.name);
  }
  if (version >= mv(2, 96)) {
    w.Key("pinned_availability_zone");
    w.Null();
  }
  if (version >= mv(2, 100)) {
    w.Key("scheduler_hints");
    w.StartObject();
    w.EndObject();
  }
  if (s.fault) {
    w.Key("fault");
    w.StartObject();
    w.Key("code");
    w.Int(s.fault->code);
    w.Key("created");
    write_str(w, s.fault->created);
    w.Key("message");
    write_str(w, s.fault->message);
    // Details go to admins (and for non-500 codes); every simulated user holds admin.
    w.Key("details");
    write_str(w,
              "  File \"/opt/stack/nova/nova/conductor/manager.py\", line 654, in build_instances\n"
              "    raise exception.NoValidHost(reason=\"\")\n");
    w.EndObject();
  }
  w.EndObject();
}

namespace {

server* find_server(impl_state& st, const std::string& id) {
  auto i = st.servers.find(id);
  return i == st.servers.end() ? nullptr : &i->second;
}

response show_server(impl_state& st, call& c) {
  auto s = find_server(st, c.params[0]);
  if (s == nullptr) return not_found_server(c.params[0]);
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("server");
                         write_server(w, st, *s, c);
                         w.EndObject();
                       }));
}

std::string last_segment(std::string_view ref) {
  auto slash = ref.rfind('/');
  return std::string{slash == std::string_view::npos ? ref : ref.substr(slash + 1)};
}

struct usage {
  int instances = 0;
  int cores = 0;
  int ram = 0;
};

usage usage_of(impl_state& st, const std::string& project_id) {
  usage u;
  for (auto& [id, s] : st.servers) {
    if (s.project_id != project_id) continue;
    ++u.instances;
    // A server awaiting resize confirmation holds the larger of both flavors.
    auto f = st.find_flavor(s.flavor_id);
    auto old = s.old_flavor_id.empty() ? nullptr : st.find_flavor(s.old_flavor_id);
    if (f != nullptr) {
      u.cores += std::max(f->vcpus, old ? old->vcpus : 0);
      u.ram += std::max(f->ram, old ? old->ram : 0);
    }
  }
  return u;
}

std::optional<response> check_quota(impl_state& st, const std::string& project_id, int instances,
                                    int cores, int ram) {
  auto u = usage_of(st, project_id);
  auto& q = st.cfg.quotas;
  auto exceeded = [](std::string_view res, int requested, int used, int limit) {
    return nova_fault(403, "Quota exceeded for " + std::string{res} + ": Requested "
                             + std::to_string(requested) + ", but already used "
                             + std::to_string(used) + " of " + std::to_string(limit) + " "
                             + std::string{res});
  };
  if (instances > 0 && u.instances + instances > q.instances)
    return exceeded("instances", instances, u.instances, q.instances);
  if (cores > 0 && u.cores + cores > q.cores) return exceeded("cores", cores, u.cores, q.cores);
  if (ram > 0 && u.ram + ram > q.ram_mb) return exceeded("ram", ram, u.ram, q.ram_mb);
  return std::nullopt;
}

response invalid_input(std::string_view field, std::string_view value, std::string_view reason) {
  return nova_fault(400, "Invalid input for field/attribute " + std::string{field}
                           + ". Value: " + std::string{value} + ". " + std::string{reason});
}

std::string json_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  v.Accept(w);
  return buf.GetString();
}

std::optional<response> check_tags(const rapidjson::Value& tags, std::vector<std::string>& out) {
  if (!tags.IsArray()) return invalid_input("tags", json_text(tags), "It is not an array.");
  if (tags.Size() > 50)
    return invalid_input("tags", json_text(tags), "Too many tags (maximum 50).");
  for (auto& t : tags.GetArray()) {
    auto tag = str_of(t);
    if (!t.IsString() || tag.empty() || tag.size() > 60
        || tag.find_first_of("/,") != std::string_view::npos)
      return invalid_input("tags", json_text(tags),
                           "'" + std::string{tag} + "' does not match '^[^,/]*$'");
    if (std::find(out.begin(), out.end(), tag) == out.end()) out.emplace_back(tag);
  }
  return std::nullopt;
}

struct nic_request {
  std::string network_id;
  std::string port_id;
  std::string fixed_ip;
};

response create_server(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  if (!doc || !doc->HasMember("server") || !(*doc)["server"].IsObject())
    return nova_fault(400, "Invalid input for field/attribute server. Value: None. None is not "
                           "of type 'object'");
  auto& body = (*doc)["server"];
  auto value = json_text(body);
  for (auto key : {"name", "flavorRef"})
    if (!body.HasMember(key))
      return invalid_input("server", value, "'" + std::string{key} + "' is a required property");
  auto name = std::string{str_of(body["name"])};
  if (!body["name"].IsString() || name.empty() || name.size() > 255)
    return invalid_input("name", json_text(body["name"]), "Invalid server name.");
  if (c.microversion >= mv(2, 57) && body.HasMember("personality"))
    return nova_fault(400, "Additional properties are not allowed ('personality' was "
                           "unexpected)");
  if (c.microversion >= mv(2, 37) && !body.HasMember("networks"))
    return invalid_input("server", value, "'networks' is a required property");
  auto flavor_id = last_segment(str_of(body["flavorRef"]));
  auto f = st.find_flavor(flavor_id);
  if (f == nullptr) return nova_fault(400, "Flavor " + flavor_id + " could not be found.");

  // Block device mapping: a boot volume makes imageRef optional.
  struct bdm {
    std::string source;
    std::string destination;
    std::string uuid;
    int size = 0;
    int boot_index = -1;
    bool delete_on_termination = false;
  };
  std::vector<bdm> bdms;
  if (body.HasMember("block_device_mapping_v2")) {
    auto& list = body["block_device_mapping_v2"];
    if (!list.IsArray())
      return invalid_input("block_device_mapping_v2", json_text(list), "It is not an array.");
    for (auto& item : list.GetArray()) {
      bdm b;
      if (!item.IsObject())
        return invalid_input("block_device_mapping_v2", json_text(list), "Invalid entry.");
      b.source = str_of(item["source_type"]);
      if (item.HasMember("destination_type")) b.destination = str_of(item["destination_type"]);
      if (item.HasMember("uuid")) b.uuid = str_of(item["uuid"]);
      if (item.HasMember("boot_index") && item["boot_index"].IsInt())
        b.boot_index = item["boot_index"].GetInt();
      if (item.HasMember("volume_size")) {
        auto& vs = item["volume_size"];
        if (vs.IsInt())
          b.size = vs.GetInt();
        else if (vs.IsString())
          b.size = std::atoi(vs.GetString());
      }
      if (item.HasMember("delete_on_termination") && item["delete_on_termination"].IsBool())
        b.delete_on_termination = item["delete_on_termination"].GetBool();
      if (b.source == "image" && st.find_image(b.uuid) == nullptr)
        return nova_fault(400, "Image " + b.uuid + " could not be found.");
      if (b.source == "volume") {
        auto v = st.volumes.find(b.uuid);
        if (v == st.volumes.end())
          return nova_fault(400, "Volume " + b.uuid + " could not be found.");
        if (v->second.status != "available")
          return nova_fault(400, "Invalid volume: volume " + b.uuid
                                   + " status must be 'available'. Currently in '"
                                   + v->second.status + "'");
      }
      bdms.push_back(b);
    }
  }
  bool boot_from_volume = false;
  for (auto& b : bdms)
    boot_from_volume = boot_from_volume || (b.boot_index == 0 && b.destination == "volume");
  std::string image_id;
  if (body.HasMember("imageRef") && !str_of(body["imageRef"]).empty()) {
    image_id = last_segment(str_of(body["imageRef"]));
    auto img = st.find_image(image_id);
    if (img == nullptr) return nova_fault(400, "Image " + image_id + " could not be found.");
    if (img->status != "active") return nova_fault(400, "Image " + image_id + " is not active.");
  } else if (!boot_from_volume) {
    return nova_fault(400, "Block Device Mapping is Invalid: Boot sequence for the instance and "
                           "image/block device mapping combination is not valid.");
  }

  std::vector<nic_request> nics;
  if (body.HasMember("networks")) {
    auto& nets = body["networks"];
    if (nets.IsString()) {
      if (str_of(nets) == "auto") {
        for (auto& [id, n] : st.networks)
          if (!n.external && n.project_id == c.auth->project_id && !n.subnets.empty())
            nics.push_back({id, {}, {}});
        if (nics.size() != 1)
          return nova_fault(400, nics.empty() ? "Unable to automatically allocate a network for "
                                                "project "
                                                  + c.auth->project_id
                                              : "Multiple possible networks found, use a Network "
                                                "ID to be more specific.");
      } else if (str_of(nets) != "none") {
        return invalid_input("networks", json_text(nets),
                             "'" + std::string{str_of(nets)} + "' is not one of ['none', 'auto']");
      }
    } else if (nets.IsArray()) {
      for (auto& n : nets.GetArray()) {
        if (!n.IsObject())
          return invalid_input("networks", json_text(nets), "Invalid network entry.");
        nic_request nic;
        if (n.HasMember("uuid")) nic.network_id = str_of(n["uuid"]);
        if (n.HasMember("port")) nic.port_id = str_of(n["port"]);
        if (n.HasMember("fixed_ip")) nic.fixed_ip = str_of(n["fixed_ip"]);
        if (nic.network_id.empty() && nic.port_id.empty())
          return nova_fault(400, "Bad networks format: network uuid is not in proper format ()");
        if (!nic.port_id.empty()) {
          auto p = st.ports.find(nic.port_id);
          if (p == st.ports.end())
            return nova_fault(400, "Port id " + nic.port_id + " could not be found.");
          if (!p->second.device_id.empty())
            return nova_fault(409, "Port " + nic.port_id + " is still in use.");
        } else {
          auto net = st.networks.find(nic.network_id);
          if (net == st.networks.end())
            return nova_fault(400, "Network " + nic.network_id + " could not be found.");
          if (net->second.subnets.empty())
            return nova_fault(400, "Network " + nic.network_id
                                     + " requires a subnet in order to boot instances on.");
        }
        nics.push_back(nic);
      }
    } else {
      return invalid_input("networks", json_text(nets), "It is not a list or a string.");
    }
  }
  std::vector<std::string> tags;
  if (body.HasMember("tags")) {
    if (c.microversion < mv(2, 52))
      return nova_fault(400, "Additional properties are not allowed ('tags' was unexpected)");
    if (auto err = check_tags(body["tags"], tags)) return *err;
  }
  std::map<std::string, std::string> metadata;
  if (body.HasMember("metadata")) {
    auto& md = body["metadata"];
    if (!md.IsObject()) return invalid_input("metadata", json_text(md), "It is not an object.");
    if (md.MemberCount() > 128)
      return nova_fault(403, "Quota exceeded for metadata_items: Requested "
                               + std::to_string(md.MemberCount())
                               + ", but already used 0 of 128 metadata_items");
    for (auto& m : md.GetObject()) {
      if (!m.value.IsString() || m.name.GetStringLength() > 255 || m.value.GetStringLength() > 255
          || m.name.GetStringLength() == 0)
        return invalid_input("metadata", json_text(md), "Invalid metadata item.");
      metadata[m.name.GetString()] = m.value.GetString();
    }
  }
  std::vector<std::string> group_names;
  std::vector<std::string> group_ids;
  if (body.HasMember("security_groups")) {
    auto& groups = body["security_groups"];
    if (!groups.IsArray())
      return invalid_input("security_groups", json_text(groups), "It is not an array.");
    for (auto& g : groups.GetArray()) {
      auto wanted = g.IsObject() && g.HasMember("name") ? str_of(g["name"]) : std::string_view{};
      const security_group* found = nullptr;
      for (auto& [gid, group] : st.security_groups)
        if (group.project_id == c.auth->project_id && (group.name == wanted || gid == wanted))
          found = &group;
      if (found == nullptr)
        return nova_fault(400, "Security group " + std::string{wanted} + " not found for project "
                                 + c.auth->project_id + ".");
      group_names.push_back(found->name);
      group_ids.push_back(found->id);
    }
  }
  if (body.HasMember("key_name") && !body["key_name"].IsNull()) {
    auto key = std::string{str_of(body["key_name"])};
    if (!st.keypairs.count({c.auth->user_id, key}))
      return nova_fault(400, "Invalid key_name provided.");
  }
  if (auto err = check_quota(st, c.auth->project_id, 1, f->vcpus, f->ram)) return *err;

  server s;
  if (!group_names.empty()) s.security_groups = group_names;
  s.id = st.new_uuid();
  s.seq = ++st.seq;
  s.name = name;
  s.project_id = c.auth->project_id;
  s.user_id = c.auth->user_id;
  s.flavor_id = f->id;
  s.image_id = image_id;
  if (body.HasMember("key_name") && body["key_name"].IsString())
    s.key_name = std::string{str_of(body["key_name"])};
  if (body.HasMember("description") && body["description"].IsString())
    s.description = std::string{str_of(body["description"])};
  if (body.HasMember("user_data") && body["user_data"].IsString())
    s.user_data = str_of(body["user_data"]);
  s.metadata = std::move(metadata);
  s.tags = std::move(tags);
  s.created = s.updated = iso_seconds(c.now);
  s.updated_at = c.now;

  // Ports first: an address shortage fails the request before anything is kept.
  for (auto& nic : nics) {
    if (!nic.port_id.empty()) {
      auto& p = st.ports.at(nic.port_id);
      p.device_id = s.id;
      p.device_owner = "compute:nova";
      s.nics.push_back({nic.port_id, false});
      continue;
    }
    auto& net = st.networks.at(nic.network_id);
    std::vector<fixed_ip> wanted;
    if (!nic.fixed_ip.empty()) {
      for (auto& sid : net.subnets) {
        auto& sn = st.subnets.at(sid);
        auto a = parse_address(nic.fixed_ip, sn.ip_version);
        if (a && offset_in(cidr{sn.ip_version, sn.base, sn.prefix}, *a))
          wanted.push_back({sid, nic.fixed_ip});
      }
      if (wanted.empty())
        return nova_fault(400, "Fixed IP address " + nic.fixed_ip + " is not valid on network "
                                 + net.id + ".");
    }
    std::string port_id;
    if (auto err = nova_allocate_port(st, net, wanted, port_id, s.project_id, s.id, c.now)) {
      for (auto& made : s.nics)
        if (made.created_by_nova)
          st.delete_port(made.port_id);
        else
          st.ports.at(made.port_id).device_id.clear();
      if (err->status == 409 && err->body.find("IpAddressAlreadyAllocated") != std::string::npos)
        return nova_fault(400,
                          "Fixed IP address " + nic.fixed_ip + " is already in use on instance.");
      return nova_fault(409, "No more IP addresses available on network " + net.id + ".");
    }
    if (!group_ids.empty()) st.ports.at(port_id).security_groups = group_ids;
    s.nics.push_back({port_id, true});
  }
  char device = 'a';
  for (auto& b : bdms) {
    if (b.destination != "volume") continue;
    std::string volume_id = b.uuid;
    if (b.source != "volume") {
      volume v;
      v.id = st.new_uuid();
      v.seq = ++st.seq;
      v.project_id = s.project_id;
      v.user_id = s.user_id;
      v.size = b.size > 0 ? b.size : f->disk;
      v.image_id = b.source == "image" ? b.uuid : "";
      v.created = iso_micros_naive(c.now);
      volume_id = v.id;
      st.volume_order[v.seq] = v.id;
      st.volumes[v.id] = std::move(v);
    }
    auto& v = st.volumes.at(volume_id);
    v.status = "in-use";
    ++v.generation;
    server_volume sv{volume_id,     st.new_uuid(),
                     st.new_uuid(), std::string{"/dev/vd"} + device++,
                     std::nullopt,  b.delete_on_termination};
    v.attachments.push_back({s.id, sv.attachment_id, sv.device, iso_micros_naive(c.now)});
    s.volumes.push_back(sv);
  }
  bool fail = st.failing_boots > 0;
  if (fail) --st.failing_boots;
  st.schedule(c.now, st.cfg.boot_time, event_kind::server_built, s.id, s.generation,
              fail ? "fail" : "");
  auto id = s.id;
  st.server_order[s.seq] = id;
  st.servers[id] = std::move(s);
  auto res = json_response(202, render([&](json_writer& w) {
                             w.StartObject();
                             w.Key("server");
                             w.StartObject();
                             w.Key("OS-DCF:diskConfig");
                             w.String("MANUAL");
                             w.Key("id");
                             write_str(w, id);
                             w.Key("links");
                             write_link_pair(w, st, "servers", id);
                             w.Key("security_groups");
                             w.StartArray();
                             w.StartObject();
                             w.Key("name");
                             w.String("default");
                             w.EndObject();
                             w.EndArray();
                             w.Key("adminPass");
                             write_str(w, st.new_token_id().substr(6, 12));
                             w.EndObject();
                             w.EndObject();
                           }));
  res.headers.emplace_back("Location", st.cfg.base_url + "/compute/v2.1/servers/" + id);
  return res;
}

response list_servers(impl_state& st, call& c, bool detail) {
  static const std::set<std::string> statuses{
    "ACTIVE",    "BUILD",        "DELETED",       "ERROR",   "HARD_REBOOT",
    "MIGRATING", "PASSWORD",     "PAUSED",        "REBOOT",  "REBUILD",
    "RESCUE",    "RESIZE",       "REVERT_RESIZE", "SHELVED", "SHELVED_OFFLOADED",
    "SHUTOFF",   "SOFT_DELETED", "SUSPENDED",     "UNKNOWN", "VERIFY_RESIZE"};
  std::optional<std::regex> name_re;
  if (auto n = c.arg("name")) {
    try {
      name_re.emplace(*n, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      return nova_fault(400, "Invalid filter name: " + *n);
    }
  }
  std::set<std::string> wanted_status;
  for (auto& s : c.args("status")) {
    if (!statuses.count(s)) {
      if (c.microversion >= mv(2, 38)) return nova_fault(400, "Invalid status value");
      wanted_status.insert("\x01"); // matches nothing, as before 2.38
    }
    wanted_status.insert(s);
  }
  std::optional<time_point> since;
  if (auto cs = c.arg("changes-since")) {
    since = parse_iso(*cs);
    if (!since) return invalid_input("changes-since", *cs, "'" + *cs + "' is not a 'date-time'");
  }
  // changes-before (2.66+) bounds the same window from above; below 2.66 it is ignored.
  std::optional<time_point> before;
  if (auto cb = c.arg("changes-before"); cb && c.microversion >= mv(2, 66)) {
    before = parse_iso(*cb);
    if (!before) return invalid_input("changes-before", *cb, "'" + *cb + "' is not a 'date-time'");
    if (since && *since > *before)
      return nova_fault(400, "The value of changes-since must be less than or equal to "
                             "changes-before.");
  }
  bool tag_filters = c.microversion >= mv(2, 26);
  auto all_tags = tag_filters ? c.args("tags") : std::vector<std::string>{};
  auto any_tags = tag_filters ? c.args("tags-any") : std::vector<std::string>{};
  auto not_tags = tag_filters ? c.args("not-tags") : std::vector<std::string>{};
  auto not_any_tags = tag_filters ? c.args("not-tags-any") : std::vector<std::string>{};
  auto flavor_filter = c.arg("flavor");
  auto image_filter = c.arg("image");
  size_t limit = 1000;
  if (auto l = c.arg("limit")) {
    char* end = nullptr;
    auto v = std::strtol(l->c_str(), &end, 10);
    if (end == l->c_str() || *end != '\0' || v < 0)
      return invalid_input("limit", *l, "'" + *l + "' does not match '^[0-9]*$'");
    limit = std::min<size_t>(static_cast<size_t>(v), 1000);
  }
  auto marker = c.arg("marker");
  if (marker && !st.servers.count(*marker)) {
    bool deleted = std::any_of(st.deleted_servers.begin(), st.deleted_servers.end(),
                               [&](auto& t) { return t.id == *marker; });
    if (!deleted) return nova_fault(400, "marker [" + *marker + "] not found");
  }
  auto has = [](const std::vector<std::string>& tags, const std::string& t) {
    return std::find(tags.begin(), tags.end(), t) != tags.end();
  };
  auto matches = [&](const server& s) {
    if (s.project_id != c.auth->project_id) return false;
    if (name_re && !std::regex_search(s.name, *name_re)) return false;
    if (!wanted_status.empty() && !wanted_status.count(status_of(s))) return false;
    if (since && s.updated_at < *since) return false;
    if (before && s.updated_at > *before) return false;
    if (flavor_filter && s.flavor_id != *flavor_filter) return false;
    if (image_filter && s.image_id != last_segment(*image_filter)) return false;
    for (auto& v : all_tags)
      for (auto& t : split_commas(v))
        if (!has(s.tags, t)) return false;
    for (auto& v : any_tags) {
      bool any = false;
      for (auto& t : split_commas(v)) any = any || has(s.tags, t);
      if (!any) return false;
    }
    for (auto& v : not_tags) {
      bool all = true;
      for (auto& t : split_commas(v)) all = all && has(s.tags, t);
      if (all) return false;
    }
    for (auto& v : not_any_tags)
      for (auto& t : split_commas(v))
        if (has(s.tags, t)) return false;
    return true;
  };
  // Newest first (created_at descending), then deleted ones for changes-since.
  std::vector<const server*> page;
  std::vector<const server_tombstone*> gone;
  bool past_marker = !marker;
  for (auto i = st.server_order.rbegin(); i != st.server_order.rend(); ++i) {
    auto& s = st.servers.at(i->second);
    if (!past_marker) {
      past_marker = s.id == *marker;
      continue;
    }
    if (page.size() == limit) break;
    if (matches(s)) page.push_back(&s);
  }
  if ((since || before) && page.size() < limit
      && (wanted_status.empty() || wanted_status.count("DELETED"))) {
    for (auto i = st.deleted_servers.rbegin(); i != st.deleted_servers.rend(); ++i) {
      if (!past_marker) {
        past_marker = i->id == *marker;
        continue;
      }
      if (page.size() + gone.size() == limit) break;
      if (i->project_id == c.auth->project_id && (!since || i->deleted_at >= *since)
          && (!before || i->deleted_at <= *before)
          && (!name_re || std::regex_search(i->name, *name_re)))
        gone.push_back(&*i);
    }
  }
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("servers");
                         w.StartArray();
                         std::string last;
                         for (auto s : page) {
                           last = s->id;
                           if (detail) {
                             write_server(w, st, *s, c);
                             continue;
                           }
                           w.StartObject();
                           w.Key("id");
                           write_str(w, s->id);
                           w.Key("links");
                           write_link_pair(w, st, "servers", s->id);
                           w.Key("name");
                           write_str(w, s->name);
                           w.EndObject();
                         }
                         for (auto t : gone) {
                           last = t->id;
                           server s;
                           s.id = t->id;
                           s.name = t->name;
                           s.project_id = t->project_id;
                           s.user_id = t->user_id;
                           s.flavor_id = t->flavor_id;
                           s.image_id = t->image_id;
                           s.created = t->created;
                           s.updated = t->updated;
                           s.vm_state = "deleted";
                           s.task_state.clear();
                           if (detail) {
                             write_server(w, st, s, c);
                             continue;
                           }
                           w.StartObject();
                           w.Key("id");
                           write_str(w, s.id);
                           w.Key("links");
                           write_link_pair(w, st, "servers", s.id);
                           w.Key("name");
                           write_str(w, s.name);
                           w.EndObject();
                         }
                         w.EndArray();
                         // Nova links to a next page whenever this one is full.
                         if (limit > 0 && page.size() + gone.size() == limit) {
                           std::string query;
                           for (auto& [k, v] : c.query)
                             if (k != "marker")
                               query += percent_encode(k) + "=" + percent_encode(v) + "&";
                           query += "marker=" + last;
                           w.Key("servers_links");
                           w.StartArray();
                           w.StartObject();
                           w.Key("href");
                           write_str(w, st.cfg.base_url + "/compute/v2.1/servers"
                                          + (detail ? "/detail" : "") + "?" + query);
                           w.Key("rel");
                           w.String("next");
                           w.EndObject();
                           w.EndArray();
                         }
                         w.EndObject();
                       }));
}

response delete_server(impl_state& st, call& c) {
  auto s = find_server(st, c.params[0]);
  if (s == nullptr) return not_found_server(c.params[0]);
  if (s->task_state != "deleting") {
    s->task_state = "deleting";
    s->updated = iso_seconds(c.now);
    s->updated_at = c.now;
    ++s->generation;
    st.schedule(c.now, st.cfg.delete_time, event_kind::server_deleted, s->id, s->generation);
  }
  return empty_response(204);
}

response conflict(const server& s, std::string_view action) {
  if (!s.task_state.empty())
    return nova_fault(409, "Cannot '" + std::string{action} + "' instance " + s.id
                             + " while it is in task_state " + s.task_state);
  return nova_fault(409, "Cannot '" + std::string{action} + "' instance " + s.id
                           + " while it is in vm_state " + s.vm_state);
}

void begin(server& s, call& c, std::string task) {
  s.task_state = std::move(task);
  s.updated = iso_seconds(c.now);
  s.updated_at = c.now;
  ++s.generation;
}

response server_action(impl_state& st, call& c) {
  auto s = find_server(st, c.params[0]);
  if (s == nullptr) return not_found_server(c.params[0]);
  auto doc = parse_body(c.req);
  if (!doc || doc->MemberCount() != 1) return nova_fault(400, "Malformed request body");
  auto action = std::string{doc->MemberBegin()->name.GetString()};
  auto& arg = doc->MemberBegin()->value;
  bool idle = s->task_state.empty();
  if (action == "resize") {
    if (!arg.IsObject() || !arg.HasMember("flavorRef"))
      return invalid_input("resize", json_text(arg), "'flavorRef' is a required property");
    if (!idle || (s->vm_state != "active" && s->vm_state != "stopped"))
      return conflict(*s, "resize");
    auto flavor_id = last_segment(str_of(arg["flavorRef"]));
    auto f = st.find_flavor(flavor_id);
    if (f == nullptr) return nova_fault(400, "Unable to find flavor " + flavor_id);
    if (f->id == s->flavor_id)
      return nova_fault(400, "When resizing, instances must change flavor!");
    auto cur = st.find_flavor(s->flavor_id);
    if (auto err = check_quota(st, s->project_id, 0, f->vcpus - cur->vcpus, f->ram - cur->ram))
      return *err;
    s->pre_resize_vm_state = s->vm_state;
    begin(*s, c, "resize_prep");
    st.schedule(c.now, st.cfg.boot_time, event_kind::server_resized, s->id, s->generation, f->id);
    return empty_response(202);
  }
  if (action == "confirmResize") {
    if (s->vm_state != "resized" || !idle) return conflict(*s, "confirmResize");
    if (s->old_flavor_id.empty()) return nova_fault(400, "Instance has not been resized.");
    // The status stays VERIFY_RESIZE until the source host is cleaned up.
    s->old_flavor_id.clear();
    ++s->generation;
    st.schedule(c.now, st.cfg.boot_time, event_kind::server_resize_confirmed, s->id, s->generation);
    return empty_response(204);
  }
  if (action == "revertResize") {
    if (s->vm_state != "resized" || !idle || s->old_flavor_id.empty())
      return conflict(*s, "revertResize");
    begin(*s, c, "resize_reverting");
    st.schedule(c.now, st.cfg.boot_time, event_kind::server_resize_reverted, s->id, s->generation);
    return empty_response(202);
  }
  if (action == "rebuild") {
    if (!arg.IsObject() || !arg.HasMember("imageRef"))
      return invalid_input("rebuild", json_text(arg), "'imageRef' is a required property");
    if (!idle || (s->vm_state != "active" && s->vm_state != "stopped" && s->vm_state != "error"))
      return conflict(*s, "rebuild");
    auto image_id = last_segment(str_of(arg["imageRef"]));
    if (st.find_image(image_id) == nullptr)
      return nova_fault(400, "Image " + image_id + " could not be found.");
    if (arg.HasMember("name") && arg["name"].IsString()) s->name = arg["name"].GetString();
    if (arg.HasMember("metadata") && arg["metadata"].IsObject()) {
      s->metadata.clear();
      for (auto& m : arg["metadata"].GetObject())
        s->metadata[m.name.GetString()] = std::string{str_of(m.value)};
    }
    s->image_id = image_id;
    begin(*s, c, "rebuilding");
    st.schedule(c.now, st.cfg.boot_time, event_kind::server_rebuilt, s->id, s->generation);
    return json_response(202, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("server");
                           write_server(w, st, *s, c);
                           w.EndObject();
                         }));
  }
  if (action == "os-stop") {
    if (!idle || s->vm_state != "active") return conflict(*s, "stop");
    s->vm_state = "stopped";
    s->power_state = 4;
    begin(*s, c, "");
    return empty_response(202);
  }
  if (action == "os-start") {
    if (!idle || s->vm_state != "stopped") return conflict(*s, "start");
    s->vm_state = "active";
    s->power_state = 1;
    begin(*s, c, "");
    return empty_response(202);
  }
  if (action == "reboot") {
    if (!idle || (s->vm_state != "active" && s->vm_state != "stopped"))
      return conflict(*s, "reboot");
    s->vm_state = "active";
    s->power_state = 1;
    begin(*s, c, "");
    return empty_response(202);
  }
  return nova_fault(400, "There is no such action: " + action);
}

// -- volume attachments -------------------------------------------------------------------

void write_attachment(json_writer& w, const server& s, const server_volume& v, int version) {
  w.StartObject();
  w.Key("device");
  write_str(w, v.device);
  if (version < mv(2, 89)) {
    w.Key("id");
    write_str(w, v.volume_id);
  }
  w.Key("serverId");
  write_str(w, s.id);
  w.Key("volumeId");
  write_str(w, v.volume_id);
  if (version >= mv(2, 70)) {
    w.Key("tag");
    write_opt(w, v.tag);
  }
  if (version >= mv(2, 79)) {
    w.Key("delete_on_termination");
    w.Bool(v.delete_on_termination);
  }
  if (version >= mv(2, 89)) {
    w.Key("attachment_id");
    write_str(w, v.attachment_id);
    w.Key("bdm_uuid");
    write_str(w, v.bdm_uuid);
  }
  w.EndObject();
}

response attach_volume(impl_state& st, call& c) {
  auto s = find_server(st, c.params[0]);
  if (s == nullptr) return not_found_server(c.params[0]);
  auto doc = parse_body(c.req);
  if (!doc || !doc->HasMember("volumeAttachment") || !(*doc)["volumeAttachment"].IsObject()
      || !(*doc)["volumeAttachment"].HasMember("volumeId"))
    return invalid_input("volumeAttachment", doc ? json_text(*doc) : "None",
                         "'volumeId' is a required property");
  auto& body = (*doc)["volumeAttachment"];
  if (!s->task_state.empty()
      || (s->vm_state != "active" && s->vm_state != "stopped" && s->vm_state != "paused"))
    return conflict(*s, "attach_volume");
  auto volume_id = std::string{str_of(body["volumeId"])};
  auto v = st.volumes.find(volume_id);
  if (v == st.volumes.end() || v->second.project_id != s->project_id)
    return nova_fault(404, "Volume " + volume_id + " could not be found.");
  if (v->second.status != "available")
    return nova_fault(400, "Invalid volume: volume " + volume_id
                             + " status must be 'available'. Currently in '" + v->second.status
                             + "'");
  server_volume sv;
  sv.volume_id = volume_id;
  sv.attachment_id = st.new_uuid();
  sv.bdm_uuid = st.new_uuid();
  char letter = 'b';
  for (bool taken = true; taken; ++letter) {
    taken = false;
    for (auto& other : s->volumes) taken = taken || other.device == std::string{"/dev/vd"} + letter;
    if (!taken) break;
  }
  sv.device = std::string{"/dev/vd"} + letter;
  if (body.HasMember("tag") && body["tag"].IsString()) sv.tag = std::string{str_of(body["tag"])};
  if (body.HasMember("delete_on_termination") && body["delete_on_termination"].IsBool())
    sv.delete_on_termination = body["delete_on_termination"].GetBool();
  s->volumes.push_back(sv);
  auto& vol = v->second;
  vol.status = "attaching";
  ++vol.generation;
  vol.attachments.push_back({s->id, sv.attachment_id, sv.device, iso_micros_naive(c.now)});
  st.schedule(c.now, st.cfg.boot_time, event_kind::volume_attached, vol.id, vol.generation);
  if (c.microversion >= mv(2, 101)) return empty_response(202);
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("volumeAttachment");
                         write_attachment(w, *s, sv, c.microversion);
                         w.EndObject();
                       }));
}

response list_attachments(impl_state& st, call& c) {
  auto s = find_server(st, c.params[0]);
  if (s == nullptr) return not_found_server(c.params[0]);
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("volumeAttachments");
                         w.StartArray();
                         for (auto& v : s->volumes) write_attachment(w, *s, v, c.microversion);
                         w.EndArray();
                         w.EndObject();
                       }));
}

response show_attachment(impl_state& st, call& c) {
  auto s = find_server(st, c.params[0]);
  if (s == nullptr) return not_found_server(c.params[0]);
  for (auto& v : s->volumes)
    if (v.volume_id == c.params[1])
      return json_response(200, render([&](json_writer& w) {
                             w.StartObject();
                             w.Key("volumeAttachment");
                             write_attachment(w, *s, v, c.microversion);
                             w.EndObject();
                           }));
  return nova_fault(404, "Instance " + s->id + " is not attached to volume " + c.params[1]);
}

response detach_volume(impl_state& st, call& c) {
  auto s = find_server(st, c.params[0]);
  if (s == nullptr) return not_found_server(c.params[0]);
  auto i = std::find_if(s->volumes.begin(), s->volumes.end(),
                        [&](auto& v) { return v.volume_id == c.params[1]; });
  if (i == s->volumes.end())
    return nova_fault(404, "Instance " + s->id + " is not attached to volume " + c.params[1]);
  if (!s->task_state.empty() || s->vm_state == "building") return conflict(*s, "detach_volume");
  s->volumes.erase(i);
  if (auto v = st.volumes.find(c.params[1]); v != st.volumes.end()) {
    v->second.status = "detaching";
    ++v->second.generation;
    st.schedule(c.now, st.cfg.boot_time, event_kind::volume_detached, v->first,
                v->second.generation);
  }
  return empty_response(202);
}

// -- tags ---------------------------------------------------------------------------------

std::optional<response> tag_state_check(const server& s, std::string_view action) {
  if (s.vm_state == "active" || s.vm_state == "paused" || s.vm_state == "suspended"
      || s.vm_state == "stopped")
    return std::nullopt;
  return conflict(s, action);
}

response tags_body(const std::vector<std::string>& tags) {
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("tags");
                         write_strings(w, tags);
                         w.EndObject();
                       }));
}

response version_too_low() {
  return nova_fault(404, "The resource could not be found.");
}

// -- keypairs ------------------------------------------------------------------------------

std::string fingerprint_of(std::string_view key) {
  uint64_t h1 = 14695981039346656037ULL;
  uint64_t h2 = 0x9e3779b97f4a7c15ULL;
  for (unsigned char ch : key) {
    h1 = (h1 ^ ch) * 1099511628211ULL;
    h2 = (h2 ^ ch) * 14029467366897019727ULL;
  }
  std::string result;
  char buf[4];
  for (int i = 0; i < 16; ++i) {
    auto byte = static_cast<unsigned>(((i < 8 ? h1 : h2) >> ((i % 8) * 8)) & 0xff);
    std::snprintf(buf, sizeof(buf), i == 0 ? "%02x" : ":%02x", byte);
    result += buf;
  }
  return result;
}

void write_keypair(json_writer& w, const keypair& k, int version, bool full,
                   const std::string* private_key = nullptr) {
  w.StartObject();
  w.Key("name");
  write_str(w, k.name);
  w.Key("public_key");
  write_str(w, k.public_key);
  w.Key("fingerprint");
  write_str(w, k.fingerprint);
  if (version >= mv(2, 2)) {
    w.Key("type");
    write_str(w, k.type);
  }
  if (full) {
    w.Key("user_id");
    write_str(w, k.user_id);
    w.Key("created_at");
    write_str(w, k.created);
    w.Key("deleted");
    w.Bool(false);
    w.Key("deleted_at");
    w.Null();
    w.Key("updated_at");
    w.Null();
    w.Key("id");
    w.Int(1);
  }
  if (private_key != nullptr) {
    w.Key("private_key");
    write_str(w, *private_key);
  }
  w.EndObject();
}

response create_keypair(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  if (!doc || !doc->HasMember("keypair") || !(*doc)["keypair"].IsObject())
    return invalid_input("keypair", "None", "'keypair' is a required property");
  auto& body = (*doc)["keypair"];
  std::string name;
  if (body.HasMember("name") && body["name"].IsString()) name = body["name"].GetString();
  if (name.empty() || name.size() > 255)
    return invalid_input("name", name, "'name' is a required property");
  if (st.keypairs.count({c.auth->user_id, name}))
    return nova_fault(409, "Key pair '" + name + "' already exists.");
  keypair k;
  k.name = name;
  k.user_id = c.auth->user_id;
  if (body.HasMember("type") && body["type"].IsString()) k.type = body["type"].GetString();
  if (k.type != "ssh" && k.type != "x509")
    return invalid_input("type", k.type, "'" + k.type + "' is not one of ['ssh', 'x509']");
  std::string private_key;
  if (body.HasMember("public_key") && body["public_key"].IsString()) {
    k.public_key = body["public_key"].GetString();
    if (!k.public_key.starts_with("ssh-") && !k.public_key.starts_with("ecdsa-") && k.type == "ssh")
      return nova_fault(400, "Keypair data is invalid: failed to generate fingerprint");
  } else if (c.microversion >= mv(2, 92)) {
    return invalid_input("keypair", json_text(body), "'public_key' is a required property");
  } else {
    // Generated keys are opaque test material: well-formed envelopes, not real RSA keys.
    auto material = st.new_token_id() + st.new_token_id();
    k.public_key = "ssh-rsa AAAAB3NzaC1yc2E" + material.substr(6) + " Generated-by-Nova";
    private_key
      = "-----BEGIN RSA PRIVATE KEY-----\n" + material + "\n-----END RSA PRIVATE KEY-----\n";
  }
  k.fingerprint = fingerprint_of(k.public_key);
  k.created = iso_micros_naive(c.now);
  auto& stored = st.keypairs[{k.user_id, k.name}] = k;
  return json_response(c.microversion >= mv(2, 2) ? 201 : 200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("keypair");
                         write_keypair(w, stored, c.microversion, false,
                                       private_key.empty() ? nullptr : &private_key);
                         w.EndObject();
                       }));
}

// -- flavors, limits, versions -------------------------------------------------------------

void write_version(json_writer& w, impl_state& st, bool full) {
  w.StartObject();
  w.Key("id");
  w.String("v2.1");
  w.Key("links");
  w.StartArray();
  w.StartObject();
  w.Key("href");
  write_str(w, st.cfg.base_url + "/compute/v2.1/");
  w.Key("rel");
  w.String("self");
  w.EndObject();
  if (full) {
    w.StartObject();
    w.Key("href");
    w.String("http://docs.openstack.org/");
    w.Key("rel");
    w.String("describedby");
    w.Key("type");
    w.String("text/html");
    w.EndObject();
  }
  w.EndArray();
  if (full) {
    w.Key("media-types");
    w.StartArray();
    w.StartObject();
    w.Key("base");
    w.String("application/json");
    w.Key("type");
    w.String("application/vnd.openstack.compute+json;version=2.1");
    w.EndObject();
    w.EndArray();
  }
  w.Key("status");
  w.String("CURRENT");
  w.Key("version");
  w.String("2.101");
  w.Key("min_version");
  w.String("2.1");
  w.Key("updated");
  w.String("2013-07-23T11:33:21Z");
  w.EndObject();
}

} // namespace

void add_nova_routes(impl_state& table) {
  auto add = [&](std::string method, std::string pattern, route_fn fn, bool auth = true) {
    add_route(table, service_family::compute, "compute", std::move(method), "/compute" + pattern,
              std::move(fn), auth);
  };
  add(
    "GET", "",
    [](impl_state& s, call&) {
      return json_response(200, render([&](json_writer& w) {
                             w.StartObject();
                             w.Key("versions");
                             w.StartArray();
                             // The legacy v2.0 API is still listed, as DEPRECATED.
                             w.StartObject();
                             w.Key("id");
                             w.String("v2.0");
                             w.Key("links");
                             w.StartArray();
                             w.StartObject();
                             w.Key("href");
                             write_str(w, s.cfg.base_url + "/compute/v2/");
                             w.Key("rel");
                             w.String("self");
                             w.EndObject();
                             w.EndArray();
                             w.Key("status");
                             w.String("DEPRECATED");
                             w.Key("version");
                             w.String("");
                             w.Key("min_version");
                             w.String("");
                             w.Key("updated");
                             w.String("2025-07-04T12:00:00Z");
                             w.EndObject();
                             write_version(w, s, false);
                             w.EndArray();
                             w.EndObject();
                           }));
    },
    false);
  add(
    "GET", "/v2.1",
    [](impl_state& s, call&) {
      return json_response(200, render([&](json_writer& w) {
                             w.StartObject();
                             w.Key("version");
                             write_version(w, s, true);
                             w.EndObject();
                           }));
    },
    false);
  add("GET", "/v2.1/servers", [](impl_state& s, call& c) { return list_servers(s, c, false); });
  add("GET", "/v2.1/servers/detail",
      [](impl_state& s, call& c) { return list_servers(s, c, true); });
  add("POST", "/v2.1/servers", create_server);
  add("GET", "/v2.1/servers/{id}", show_server);
  add("PUT", "/v2.1/servers/{id}", [](impl_state& st, call& c) {
    auto s = find_server(st, c.params[0]);
    if (s == nullptr) return not_found_server(c.params[0]);
    auto doc = parse_body(c.req);
    if (!doc || !doc->HasMember("server") || !(*doc)["server"].IsObject())
      return nova_fault(400, "Malformed request body");
    auto& body = (*doc)["server"];
    if (body.HasMember("name") && body["name"].IsString()) s->name = body["name"].GetString();
    if (body.HasMember("description") && body["description"].IsString())
      s->description = std::string{body["description"].GetString()};
    s->updated = iso_seconds(c.now);
    s->updated_at = c.now;
    return show_server(st, c);
  });
  add("DELETE", "/v2.1/servers/{id}", delete_server);
  add("POST", "/v2.1/servers/{id}/action", server_action);
  add("GET", "/v2.1/servers/{id}/os-volume_attachments", list_attachments);
  add("POST", "/v2.1/servers/{id}/os-volume_attachments", attach_volume);
  add("GET", "/v2.1/servers/{id}/os-volume_attachments/{volume}", show_attachment);
  add("DELETE", "/v2.1/servers/{id}/os-volume_attachments/{volume}", detach_volume);
  add("GET", "/v2.1/servers/{id}/metadata", [](impl_state& st, call& c) {
    auto s = find_server(st, c.params[0]);
    if (s == nullptr) return not_found_server(c.params[0]);
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("metadata");
                           write_map(w, s->metadata);
                           w.EndObject();
                         }));
  });
  add("GET", "/v2.1/servers/{id}/tags", [](impl_state& st, call& c) {
    if (c.microversion < mv(2, 26)) return version_too_low();
    auto s = find_server(st, c.params[0]);
    if (s == nullptr) return not_found_server(c.params[0]);
    return tags_body(s->tags);
  });
  add("PUT", "/v2.1/servers/{id}/tags", [](impl_state& st, call& c) {
    if (c.microversion < mv(2, 26)) return version_too_low();
    auto s = find_server(st, c.params[0]);
    if (s == nullptr) return not_found_server(c.params[0]);
    auto doc = parse_body(c.req);
    if (!doc || !doc->HasMember("tags"))
      return invalid_input("tags", "None", "'tags' is a required property");
    std::vector<std::string> tags;
    if (auto err = check_tags((*doc)["tags"], tags)) return *err;
    if (auto err = tag_state_check(*s, "update tags")) return *err;
    s->tags = tags;
    s->updated = iso_seconds(c.now);
    s->updated_at = c.now;
    return tags_body(s->tags);
  });
  add("DELETE", "/v2.1/servers/{id}/tags", [](impl_state& st, call& c) {
    if (c.microversion < mv(2, 26)) return version_too_low();
    auto s = find_server(st, c.params[0]);
    if (s == nullptr) return not_found_server(c.params[0]);
    if (auto err = tag_state_check(*s, "delete tags")) return *err;
    s->tags.clear();
    return empty_response(204);
  });
  add("GET", "/v2.1/servers/{id}/tags/{tag}", [](impl_state& st, call& c) {
    if (c.microversion < mv(2, 26)) return version_too_low();
    auto s = find_server(st, c.params[0]);
    if (s == nullptr) return not_found_server(c.params[0]);
    if (std::find(s->tags.begin(), s->tags.end(), c.params[1]) == s->tags.end())
      return nova_fault(404, "Tag " + c.params[1] + " could not be found.");
    return empty_response(204);
  });
  add("PUT", "/v2.1/servers/{id}/tags/{tag}", [](impl_state& st, call& c) {
    if (c.microversion < mv(2, 26)) return version_too_low();
    auto s = find_server(st, c.params[0]);
    if (s == nullptr) return not_found_server(c.params[0]);
    auto& tag = c.params[1];
    if (tag.empty() || tag.size() > 60 || tag.find_first_of("/,") != std::string::npos)
      return invalid_input("tag", tag, "'" + tag + "' does not match '^[^,/]*$'");
    if (auto err = tag_state_check(*s, "update tag")) return *err;
    if (std::find(s->tags.begin(), s->tags.end(), tag) != s->tags.end()) return empty_response(204);
    if (s->tags.size() >= 50)
      return nova_fault(400, "The number of tags exceeded the per-server limit 50");
    s->tags.push_back(tag);
    auto res = empty_response(201);
    res.headers.emplace_back("Location", st.cfg.base_url + "/compute/v2.1/servers/" + s->id
                                           + "/tags/" + percent_encode(tag));
    return res;
  });
  add("DELETE", "/v2.1/servers/{id}/tags/{tag}", [](impl_state& st, call& c) {
    if (c.microversion < mv(2, 26)) return version_too_low();
    auto s = find_server(st, c.params[0]);
    if (s == nullptr) return not_found_server(c.params[0]);
    if (auto err = tag_state_check(*s, "delete tag")) return *err;
    auto i = std::find(s->tags.begin(), s->tags.end(), c.params[1]);
    if (i == s->tags.end()) return nova_fault(404, "Tag " + c.params[1] + " could not be found.");
    s->tags.erase(i);
    return empty_response(204);
  });
  auto flavor_list = [](bool detail) {
    return [detail](impl_state& st, call& c) {
      return json_response(200, render([&](json_writer& w) {
                             w.StartObject();
                             w.Key("flavors");
                             w.StartArray();
                             for (auto& f : st.flavors)
                               write_flavor(w, st, f, c.microversion, detail);
                             w.EndArray();
                             w.EndObject();
                           }));
    };
  };
  add("GET", "/v2.1/flavors", flavor_list(false));
  add("GET", "/v2.1/flavors/detail", flavor_list(true));
  add("GET", "/v2.1/flavors/{id}", [](impl_state& st, call& c) {
    auto f = st.find_flavor(c.params[0]);
    if (f == nullptr) return nova_fault(404, "Flavor " + c.params[0] + " could not be found.");
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("flavor");
                           write_flavor(w, st, *f, c.microversion, true);
                           w.EndObject();
                         }));
  });
  add("GET", "/v2.1/flavors/{id}/os-extra_specs", [](impl_state& st, call& c) {
    if (st.find_flavor(c.params[0]) == nullptr)
      return nova_fault(404, "Flavor " + c.params[0] + " could not be found.");
    return json_response(200, R"({"extra_specs": {}})");
  });
  add("GET", "/v2.1/os-keypairs", [](impl_state& st, call& c) {
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("keypairs");
                           w.StartArray();
                           for (auto& [key, k] : st.keypairs) {
                             if (key.first != c.auth->user_id) continue;
                             w.StartObject();
                             w.Key("keypair");
                             write_keypair(w, k, c.microversion, false);
                             w.EndObject();
                           }
                           w.EndArray();
                           w.EndObject();
                         }));
  });
  add("POST", "/v2.1/os-keypairs", create_keypair);
  add("GET", "/v2.1/os-keypairs/{name}", [](impl_state& st, call& c) {
    auto k = st.keypairs.find({c.auth->user_id, c.params[0]});
    if (k == st.keypairs.end())
      return nova_fault(404, "Keypair " + c.params[0] + " not found for user " + c.auth->user_id);
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("keypair");
                           write_keypair(w, k->second, c.microversion, true);
                           w.EndObject();
                         }));
  });
  add("DELETE", "/v2.1/os-keypairs/{name}", [](impl_state& st, call& c) {
    if (st.keypairs.erase({c.auth->user_id, c.params[0]}) == 0)
      return nova_fault(404, "Keypair " + c.params[0] + " not found for user " + c.auth->user_id);
    return empty_response(c.microversion >= mv(2, 2) ? 204 : 202);
  });
  add("GET", "/v2.1/limits", [](impl_state& st, call& c) {
    auto u = usage_of(st, c.auth->project_id);
    auto& q = st.cfg.quotas;
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("limits");
                           w.StartObject();
                           w.Key("absolute");
                           w.StartObject();
                           std::pair<const char*, int> values[]
                             = {{"maxServerMeta", 128},
                                {"maxTotalCores", q.cores},
                                {"maxTotalInstances", q.instances},
                                {"maxTotalKeypairs", 100},
                                {"maxTotalRAMSize", q.ram_mb},
                                {"maxServerGroups", 10},
                                {"maxServerGroupMembers", 10},
                                {"totalCoresUsed", u.cores},
                                {"totalInstancesUsed", u.instances},
                                {"totalRAMUsed", u.ram},
                                {"totalServerGroupsUsed", 0}};
                           for (auto& [k, v] : values) {
                             w.Key(k);
                             w.Int(v);
                           }
                           w.EndObject();
                           w.Key("rate");
                           w.StartArray();
                           w.EndArray();
                           w.EndObject();
                           w.EndObject();
                         }));
  });
}

} // namespace orch::sim
