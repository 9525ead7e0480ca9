// The --state-file format: the internal model as JSON (not the API shapes), so that a restart
// resumes exactly where the last run stopped, pending transitions and the random stream
// included. Identities (users, projects) come from the configuration, not the file.

#include <sstream>

#include "service.hpp"

namespace orch::sim {

namespace {

constexpr int snapshot_version = 1;

int64_t micros(time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

time_point from_micros(int64_t us) {
  return time_point{
    std::chrono::duration_cast<time_point::duration>(std::chrono::microseconds{us})};
}

// -- writing ------------------------------------------------------------------------------

struct out {
  json_writer& w;

  void key(const char* k) { w.Key(k); }
  void str(const char* k, const std::string& v) {
    w.Key(k);
    write_str(w, v);
  }
  void opt(const char* k, const std::optional<std::string>& v) {
    w.Key(k);
    write_opt(w, v);
  }
  void num(const char* k, int64_t v) {
    w.Key(k);
    w.Int64(v);
  }
  void u64(const char* k, uint64_t v) {
    w.Key(k);
    w.Uint64(v);
  }
  void flag(const char* k, bool v) {
    w.Key(k);
    w.Bool(v);
  }
  void strings(const char* k, const std::vector<std::string>& v) {
    w.Key(k);
    write_strings(w, v);
  }
  void map(const char* k, const std::map<std::string, std::string>& v) {
    w.Key(k);
    write_map(w, v);
  }
};

// -- reading ------------------------------------------------------------------------------

struct in {
  const rapidjson::Value& v;

  std::string str(const char* k) const {
    return v.HasMember(k) && v[k].IsString() ? v[k].GetString() : "";
  }
  std::optional<std::string> opt(const char* k) const {
    if (v.HasMember(k) && v[k].IsString()) return std::string{v[k].GetString()};
    return std::nullopt;
  }
  int64_t num(const char* k) const {
    return v.HasMember(k) && v[k].IsInt64() ? v[k].GetInt64() : 0;
  }
  uint64_t u64(const char* k) const {
    return v.HasMember(k) && v[k].IsUint64() ? v[k].GetUint64() : 0;
  }
  bool flag(const char* k) const { return v.HasMember(k) && v[k].IsBool() && v[k].GetBool(); }
  std::vector<std::string> strings(const char* k) const {
    std::vector<std::string> result;
    if (v.HasMember(k) && v[k].IsArray())
      for (auto& x : v[k].GetArray())
        if (x.IsString()) result.emplace_back(x.GetString());
    return result;
  }
  std::map<std::string, std::string> map(const char* k) const {
    std::map<std::string, std::string> result;
    if (v.HasMember(k) && v[k].IsObject())
      for (auto& m : v[k].GetObject())
        if (m.value.IsString()) result[m.name.GetString()] = m.value.GetString();
    return result;
  }
  template <class F>
  void each(const char* k, F f) const {
    if (v.HasMember(k) && v[k].IsArray())
      for (auto& x : v[k].GetArray())
        if (x.IsObject()) f(in{x});
  }
};

void write_fixed_ips(out& o, const std::vector<fixed_ip>& ips) {
  o.key("fixed_ips");
  o.w.StartArray();
  for (auto& ip : ips) {
    o.w.StartObject();
    o.str("subnet_id", ip.subnet_id);
    o.str("ip_address", ip.ip_address);
    o.w.EndObject();
  }
  o.w.EndArray();
}

std::vector<fixed_ip> read_fixed_ips(const in& i) {
  std::vector<fixed_ip> result;
  i.each("fixed_ips", [&](in x) { result.push_back({x.str("subnet_id"), x.str("ip_address")}); });
  return result;
}

} // namespace

std::string save_snapshot(const impl_state& st) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  out o{w};
  w.StartObject();
  o.num("version", snapshot_version);
  std::ostringstream rng;
  rng << st.rng;
  o.str("rng", rng.str());
  o.u64("seq", st.seq);
  o.str("public_network_id", st.public_network_id);
  o.key("tokens");
  w.StartArray();
  for (auto& [id, t] : st.tokens) {
    w.StartObject();
    o.str("id", t.id);
    o.str("user_id", t.user_id);
    o.str("project_id", t.project_id);
    o.str("audit_id", t.audit_id);
    o.num("issued", micros(t.issued));
    o.num("expires", micros(t.expires));
    w.EndObject();
  }
  w.EndArray();
  o.key("networks");
  w.StartArray();
  for (auto& [id, n] : st.networks) {
    w.StartObject();
    o.str("id", n.id);
    o.str("name", n.name);
    o.str("description", n.description);
    o.str("project_id", n.project_id);
    o.flag("external", n.external);
    o.flag("shared", n.shared);
    o.flag("admin_state_up", n.admin_state_up);
    o.num("mtu", n.mtu);
    o.strings("subnets", n.subnets);
    o.strings("tags", n.tags);
    o.num("revision", n.revision);
    o.str("created", n.created);
    o.str("updated", n.updated);
    w.EndObject();
  }
  w.EndArray();
  o.key("subnets");
  w.StartArray();
  for (auto& [id, s] : st.subnets) {
    w.StartObject();
    o.str("id", s.id);
    o.str("name", s.name);
    o.str("description", s.description);
    o.str("network_id", s.network_id);
    o.str("project_id", s.project_id);
    o.str("cidr", address_at(s.ip_version, s.base, 0) + "/" + std::to_string(s.prefix));
    o.flag("has_gateway", s.gateway.has_value());
    o.u64("gateway", s.gateway.value_or(0));
    o.key("pools");
    w.StartArray();
    for (auto& p : s.pools) {
      w.StartArray();
      w.Uint64(p.first);
      w.Uint64(p.last);
      w.EndArray();
    }
    w.EndArray();
    o.key("allocated");
    w.StartArray();
    for (auto off : s.allocated) w.Uint64(off);
    w.EndArray();
    o.flag("enable_dhcp", s.enable_dhcp);
    o.strings("dns_nameservers", s.dns_nameservers);
    o.opt("ipv6_address_mode", s.ipv6_address_mode);
    o.opt("ipv6_ra_mode", s.ipv6_ra_mode);
    o.strings("tags", s.tags);
    o.num("revision", s.revision);
    o.str("created", s.created);
    o.str("updated", s.updated);
    w.EndObject();
  }
  w.EndArray();
  o.key("ports");
  w.StartArray();
  for (auto& [id, p] : st.ports) {
    w.StartObject();
    o.str("id", p.id);
    o.str("name", p.name);
    o.str("description", p.description);
    o.str("network_id", p.network_id);
    o.str("project_id", p.project_id);
    o.str("mac_address", p.mac_address);
    o.str("device_id", p.device_id);
    o.str("device_owner", p.device_owner);
    o.strings("security_groups", p.security_groups);
    write_fixed_ips(o, p.fixed_ips);
    o.flag("admin_state_up", p.admin_state_up);
    o.strings("tags", p.tags);
    o.num("revision", p.revision);
    o.str("created", p.created);
    o.str("updated", p.updated);
    w.EndObject();
  }
  w.EndArray();
  o.key("routers");
  w.StartArray();
  for (auto& [id, r] : st.routers) {
    w.StartObject();
    o.str("id", r.id);
    o.str("name", r.name);
    o.str("description", r.description);
    o.str("project_id", r.project_id);
    o.flag("admin_state_up", r.admin_state_up);
    if (r.gateway) {
      o.str("gateway_network_id", r.gateway->network_id);
      o.str("gateway_port_id", r.gateway->port_id);
      o.flag("gateway_snat", r.gateway->enable_snat);
    }
    o.strings("interface_ports", r.interface_ports);
    o.strings("tags", r.tags);
    o.num("revision", r.revision);
    o.str("created", r.created);
    o.str("updated", r.updated);
    w.EndObject();
  }
  w.EndArray();
  o.key("keypairs");
  w.StartArray();
  for (auto& [key, k] : st.keypairs) {
    w.StartObject();
    o.str("name", k.name);
    o.str("user_id", k.user_id);
    o.str("type", k.type);
    o.str("public_key", k.public_key);
    o.str("fingerprint", k.fingerprint);
    o.str("created", k.created);
    w.EndObject();
  }
  w.EndArray();
  o.key("security_groups");
  w.StartArray();
  for (auto& [id, g] : st.security_groups) {
    w.StartObject();
    o.str("id", g.id);
    o.str("name", g.name);
    o.str("description", g.description);
    o.str("project_id", g.project_id);
    o.flag("stateful", g.stateful);
    o.strings("tags", g.tags);
    o.num("revision", g.revision);
    o.str("created", g.created);
    o.str("updated", g.updated);
    w.EndObject();
  }
  w.EndArray();
  o.key("security_group_rules");
  w.StartArray();
  for (auto& [id, r] : st.security_group_rules) {
    w.StartObject();
    o.str("id", r.id);
    o.str("security_group_id", r.security_group_id);
    o.str("project_id", r.project_id);
    o.str("direction", r.direction);
    o.str("ethertype", r.ethertype);
    o.opt("protocol", r.protocol);
    if (r.port_range_min) o.num("port_range_min", *r.port_range_min);
    if (r.port_range_max) o.num("port_range_max", *r.port_range_max);
    o.opt("remote_group_id", r.remote_group_id);
    o.opt("remote_ip_prefix", r.remote_ip_prefix);
    o.str("description", r.description);
    o.num("revision", r.revision);
    o.str("created", r.created);
    w.EndObject();
  }
  w.EndArray();
  o.key("floating_ips");
  w.StartArray();
  for (auto& [id, f] : st.floating_ips) {
    w.StartObject();
    o.str("id", f.id);
    o.str("project_id", f.project_id);
    o.str("floating_network_id", f.floating_network_id);
    o.str("floating_ip_address", f.floating_ip_address);
    o.str("subnet_id", f.subnet_id);
    o.str("own_port_id", f.own_port_id);
    o.opt("port_id", f.port_id);
    o.opt("fixed_ip_address", f.fixed_ip_address);
    o.opt("router_id", f.router_id);
    o.str("description", f.description);
    o.strings("tags", f.tags);
    o.num("revision", f.revision);
    o.str("created", f.created);
    o.str("updated", f.updated);
    w.EndObject();
  }
  w.EndArray();
  o.key("servers");
  w.StartArray();
  for (auto& [seq, id] : st.server_order) {
    auto& s = st.servers.at(id);
    w.StartObject();
    o.str("id", s.id);
    o.u64("seq", s.seq);
    o.str("name", s.name);
    o.str("project_id", s.project_id);
    o.str("user_id", s.user_id);
    o.str("flavor_id", s.flavor_id);
    o.str("old_flavor_id", s.old_flavor_id);
    o.str("image_id", s.image_id);
    o.opt("key_name", s.key_name);
    o.opt("description", s.description);
    o.str("user_data", s.user_data);
    o.map("metadata", s.metadata);
    o.strings("tags", s.tags);
    o.str("vm_state", s.vm_state);
    o.str("task_state", s.task_state);
    o.str("pre_resize_vm_state", s.pre_resize_vm_state);
    o.num("power_state", s.power_state);
    o.str("host_id", s.host_id);
    o.str("created", s.created);
    o.str("updated", s.updated);
    o.num("updated_at", micros(s.updated_at));
    o.opt("launched_at", s.launched_at);
    if (s.fault) {
      o.num("fault_code", s.fault->code);
      o.str("fault_message", s.fault->message);
      o.str("fault_created", s.fault->created);
    }
    o.key("nics");
    w.StartArray();
    for (auto& nic : s.nics) {
      w.StartObject();
      o.str("port_id", nic.port_id);
      o.flag("created_by_nova", nic.created_by_nova);
      w.EndObject();
    }
    w.EndArray();
    o.key("volumes");
    w.StartArray();
    for (auto& v : s.volumes) {
      w.StartObject();
      o.str("volume_id", v.volume_id);
      o.str("attachment_id", v.attachment_id);
      o.str("bdm_uuid", v.bdm_uuid);
      o.str("device", v.device);
      o.opt("tag", v.tag);
      o.flag("delete_on_termination", v.delete_on_termination);
      w.EndObject();
    }
    w.EndArray();
    o.u64("generation", s.generation);
    o.strings("security_groups", s.security_groups);
    w.EndObject();
  }
  w.EndArray();
  o.key("deleted_servers");
  w.StartArray();
  for (auto& t : st.deleted_servers) {
    w.StartObject();
    o.str("id", t.id);
    o.str("name", t.name);
    o.str("project_id", t.project_id);
    o.str("user_id", t.user_id);
    o.str("flavor_id", t.flavor_id);
    o.str("image_id", t.image_id);
    o.str("created", t.created);
    o.str("updated", t.updated);
    o.num("deleted_at", micros(t.deleted_at));
    w.EndObject();
  }
  w.EndArray();
  o.key("volumes");
  w.StartArray();
  for (auto& [seq, id] : st.volume_order) {
    auto& v = st.volumes.at(id);
    w.StartObject();
    o.str("id", v.id);
    o.u64("seq", v.seq);
    o.opt("name", v.name);
    o.opt("description", v.description);
    o.str("project_id", v.project_id);
    o.str("user_id", v.user_id);
    o.num("size", v.size);
    o.str("status", v.status);
    o.str("image_id", v.image_id);
    o.map("metadata", v.metadata);
    o.key("attachments");
    w.StartArray();
    for (auto& a : v.attachments) {
      w.StartObject();
      o.str("server_id", a.server_id);
      o.str("attachment_id", a.attachment_id);
      o.str("device", a.device);
      o.str("attached_at", a.attached_at);
      w.EndObject();
    }
    w.EndArray();
    o.str("created", v.created);
    o.opt("updated", v.updated);
    o.u64("generation", v.generation);
    w.EndObject();
  }
  w.EndArray();
  o.key("events");
  w.StartArray();
  auto pending = st.events;
  while (!pending.empty()) {
    auto& ev = pending.top();
    w.StartObject();
    o.num("due", micros(ev.due));
    o.u64("seq", ev.seq);
    o.num("kind", static_cast<int>(ev.kind));
    o.str("id", ev.id);
    o.u64("generation", ev.generation);
    o.str("arg", ev.arg);
    w.EndObject();
    pending.pop();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::optional<std::string> load_snapshot(impl_state& st, std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::string{"not a JSON object"};
  in root{doc};
  if (root.num("version") != snapshot_version)
    return "unsupported snapshot version " + std::to_string(root.num("version"));
  st.reset();
  std::istringstream rng{root.str("rng")};
  rng >> st.rng;
  if (rng.fail()) return std::string{"bad random generator state"};
  st.seq = root.u64("seq");
  st.public_network_id = root.str("public_network_id");
  st.networks.clear();
  st.subnets.clear();
  root.each("tokens", [&](in x) {
    token t{x.str("id"),
            x.str("user_id"),
            x.str("project_id"),
            x.str("audit_id"),
            from_micros(x.num("issued")),
            from_micros(x.num("expires"))};
    // Accounts come from the configuration: tokens of users that no longer exist are void.
    if (st.users.count(t.user_id) && st.projects.count(t.project_id)) st.tokens[t.id] = t;
  });
  root.each("networks", [&](in x) {
    network n;
    n.id = x.str("id");
    n.name = x.str("name");
    n.description = x.str("description");
    n.project_id = x.str("project_id");
    n.external = x.flag("external");
    n.shared = x.flag("shared");
    n.admin_state_up = x.flag("admin_state_up");
    n.mtu = static_cast<int>(x.num("mtu"));
    n.subnets = x.strings("subnets");
    n.tags = x.strings("tags");
    n.revision = static_cast<int>(x.num("revision"));
    n.created = x.str("created");
    n.updated = x.str("updated");
    st.networks[n.id] = n;
  });
  std::optional<std::string> error;
  root.each("subnets", [&](in x) {
    subnet s;
    s.id = x.str("id");
    s.name = x.str("name");
    s.description = x.str("description");
    s.network_id = x.str("network_id");
    s.project_id = x.str("project_id");
    auto net = parse_cidr(x.str("cidr"));
    if (!net) {
      error = "subnet " + s.id + " has a bad cidr";
      return;
    }
    s.ip_version = net->version;
    s.base = net->base;
    s.prefix = net->prefix;
    if (x.flag("has_gateway")) s.gateway = x.u64("gateway");
    if (x.v.HasMember("pools") && x.v["pools"].IsArray())
      for (auto& p : x.v["pools"].GetArray())
        if (p.IsArray() && p.Size() == 2 && p[0].IsUint64() && p[1].IsUint64())
          s.pools.push_back({p[0].GetUint64(), p[1].GetUint64()});
    if (x.v.HasMember("allocated") && x.v["allocated"].IsArray())
      for (auto& a : x.v["allocated"].GetArray())
        if (a.IsUint64()) s.allocated.insert(a.GetUint64());
    s.enable_dhcp = x.flag("enable_dhcp");
    s.dns_nameservers = x.strings("dns_nameservers");
    s.ipv6_address_mode = x.opt("ipv6_address_mode");
    s.ipv6_ra_mode = x.opt("ipv6_ra_mode");
    s.tags = x.strings("tags");
    s.revision = static_cast<int>(x.num("revision"));
    s.created = x.str("created");
    s.updated = x.str("updated");
    st.subnets[s.id] = s;
  });
  if (error) return error;
  root.each("ports", [&](in x) {
    port p;
    p.id = x.str("id");
    p.name = x.str("name");
    p.description = x.str("description");
    p.network_id = x.str("network_id");
    p.project_id = x.str("project_id");
    p.mac_address = x.str("mac_address");
    p.device_id = x.str("device_id");
    p.device_owner = x.str("device_owner");
    p.security_groups = x.strings("security_groups");
    p.fixed_ips = read_fixed_ips(x);
    p.admin_state_up = x.flag("admin_state_up");
    p.tags = x.strings("tags");
    p.revision = static_cast<int>(x.num("revision"));
    p.created = x.str("created");
    p.updated = x.str("updated");
    st.ports[p.id] = p;
  });
  root.each("routers", [&](in x) {
    router r;
    r.id = x.str("id");
    r.name = x.str("name");
    r.description = x.str("description");
    r.project_id = x.str("project_id");
    r.admin_state_up = x.flag("admin_state_up");
    if (x.v.HasMember("gateway_network_id"))
      r.gateway = router_gateway{x.str("gateway_network_id"), x.str("gateway_port_id"),
                                 x.flag("gateway_snat")};
    r.interface_ports = x.strings("interface_ports");
    r.tags = x.strings("tags");
    r.revision = static_cast<int>(x.num("revision"));
    r.created = x.str("created");
    r.updated = x.str("updated");
    st.routers[r.id] = r;
  });
  root.each("keypairs", [&](in x) {
    keypair k{x.str("name"),       x.str("user_id"),     x.str("type"),
              x.str("public_key"), x.str("fingerprint"), x.str("created")};
    st.keypairs[{k.user_id, k.name}] = k;
  });
  st.security_groups.clear();
  st.security_group_rules.clear();
  root.each("security_groups", [&](in x) {
    security_group g;
    g.id = x.str("id");
    g.name = x.str("name");
    g.description = x.str("description");
    g.project_id = x.str("project_id");
    g.stateful = x.flag("stateful");
    g.tags = x.strings("tags");
    g.revision = static_cast<int>(x.num("revision"));
    g.created = x.str("created");
    g.updated = x.str("updated");
    st.security_groups[g.id] = g;
  });
  root.each("security_group_rules", [&](in x) {
    security_group_rule r;
    r.id = x.str("id");
    r.security_group_id = x.str("security_group_id");
    r.project_id = x.str("project_id");
    r.direction = x.str("direction");
    r.ethertype = x.str("ethertype");
    r.protocol = x.opt("protocol");
    if (x.v.HasMember("port_range_min"))
      r.port_range_min = static_cast<int>(x.num("port_range_min"));
    if (x.v.HasMember("port_range_max"))
      r.port_range_max = static_cast<int>(x.num("port_range_max"));
    r.remote_group_id = x.opt("remote_group_id");
    r.remote_ip_prefix = x.opt("remote_ip_prefix");
    r.description = x.str("description");
    r.revision = static_cast<int>(x.num("revision"));
    r.created = x.str("created");
    st.security_group_rules[r.id] = r;
  });
  root.each("floating_ips", [&](in x) {
    floating_ip f;
    f.id = x.str("id");
    f.project_id = x.str("project_id");
    f.floating_network_id = x.str("floating_network_id");
    f.floating_ip_address = x.str("floating_ip_address");
    f.subnet_id = x.str("subnet_id");
    f.own_port_id = x.str("own_port_id");
    f.port_id = x.opt("port_id");
    f.fixed_ip_address = x.opt("fixed_ip_address");
    f.router_id = x.opt("router_id");
    f.description = x.str("description");
    f.tags = x.strings("tags");
    f.revision = static_cast<int>(x.num("revision"));
    f.created = x.str("created");
    f.updated = x.str("updated");
    st.floating_ips[f.id] = f;
  });
  root.each("servers", [&](in x) {
    server s;
    s.id = x.str("id");
    s.seq = x.u64("seq");
    s.name = x.str("name");
    s.project_id = x.str("project_id");
    s.user_id = x.str("user_id");
    s.flavor_id = x.str("flavor_id");
    s.old_flavor_id = x.str("old_flavor_id");
    s.image_id = x.str("image_id");
    s.key_name = x.opt("key_name");
    s.description = x.opt("description");
    s.user_data = x.str("user_data");
    s.metadata = x.map("metadata");
    s.tags = x.strings("tags");
    s.vm_state = x.str("vm_state");
    s.task_state = x.str("task_state");
    s.pre_resize_vm_state = x.str("pre_resize_vm_state");
    s.power_state = static_cast<int>(x.num("power_state"));
    s.host_id = x.str("host_id");
    s.created = x.str("created");
    s.updated = x.str("updated");
    s.updated_at = from_micros(x.num("updated_at"));
    s.launched_at = x.opt("launched_at");
    if (x.v.HasMember("fault_code"))
      s.fault = server_fault{static_cast<int>(x.num("fault_code")), x.str("fault_message"),
                             x.str("fault_created")};
    x.each("nics", [&](in n) { s.nics.push_back({n.str("port_id"), n.flag("created_by_nova")}); });
    x.each("volumes", [&](in v) {
      s.volumes.push_back({v.str("volume_id"), v.str("attachment_id"), v.str("bdm_uuid"),
                           v.str("device"), v.opt("tag"), v.flag("delete_on_termination")});
    });
    s.generation = x.u64("generation");
    s.security_groups = x.strings("security_groups");
    st.server_order[s.seq] = s.id;
    st.servers[s.id] = s;
  });
  root.each("deleted_servers", [&](in x) {
    st.deleted_servers.push_back({x.str("id"), x.str("name"), x.str("project_id"), x.str("user_id"),
                                  x.str("flavor_id"), x.str("image_id"), x.str("created"),
                                  x.str("updated"), from_micros(x.num("deleted_at"))});
  });
  root.each("volumes", [&](in x) {
    volume v;
    v.id = x.str("id");
    v.seq = x.u64("seq");
    v.name = x.opt("name");
    v.description = x.opt("description");
    v.project_id = x.str("project_id");
    v.user_id = x.str("user_id");
    v.size = static_cast<int>(x.num("size"));
    v.status = x.str("status");
    v.image_id = x.str("image_id");
    v.metadata = x.map("metadata");
    x.each("attachments", [&](in a) {
      v.attachments.push_back(
        {a.str("server_id"), a.str("attachment_id"), a.str("device"), a.str("attached_at")});
    });
    v.created = x.str("created");
    v.updated = x.opt("updated");
    v.generation = x.u64("generation");
    st.volume_order[v.seq] = v.id;
    st.volumes[v.id] = v;
  });
  root.each("events", [&](in x) {
    auto kind = x.num("kind");
    if (kind < 0 || kind > static_cast<int>(event_kind::volume_deleted)) {
      error = "bad event kind " + std::to_string(kind);
      return;
    }
    st.events.push(event{from_micros(x.num("due")), x.u64("seq"), static_cast<event_kind>(kind),
                         x.str("id"), x.u64("generation"), x.str("arg")});
  });
  return error;
}

} // namespace orch::sim
