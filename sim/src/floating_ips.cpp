// Neutron floating IPs: an address on an external network, associated with a port only when a
// router joins the port's subnet to that network; the router then cannot lose the interface or
// the gateway while the association lasts.

#include <algorithm>

#include "service.hpp"

namespace orch::sim {

namespace {

response one_floating_ip(int status, const impl_state& st, const floating_ip& f) {
  return single(status, "floatingip", [&](json_writer& w) { write_floating_ip(w, st, f); });
}

response not_found(const std::string& id) {
  return neutron_error(404, "FloatingIPNotFound", "Floating IP " + id + " could not be found");
}

/// Binds `f` to `port_id` (and `fixed` if given) through a router; an error answer otherwise.
std::optional<response> associate(impl_state& st, floating_ip& f, const std::string& port_id,
                                  std::optional<std::string> fixed) {
  auto p = st.ports.find(port_id);
  if (p == st.ports.end())
    return neutron_error(404, "PortNotFound", "Port " + port_id + " could not be found.");
  const fixed_ip* chosen = nullptr;
  for (auto& ip : p->second.fixed_ips) {
    if (fixed ? ip.ip_address == *fixed : ip.ip_address.find(':') == std::string::npos) {
      chosen = &ip;
      break;
    }
  }
  if (chosen == nullptr)
    return neutron_bad_request("Bad floatingip request: Port " + port_id
                               + " does not have fixed ip " + fixed.value_or("(IPv4)") + ".");
  for (auto& [id, other] : st.floating_ips)
    if (id != f.id && other.port_id == port_id && other.fixed_ip_address == chosen->ip_address)
      return neutron_error(409, "FloatingIPPortAlreadyAssociated",
                           "Cannot associate floating IP " + f.floating_ip_address + " (" + f.id
                             + ") with port " + port_id + " using fixed IP " + chosen->ip_address
                             + ", as that fixed IP already has a floating "
                               "IP on external network "
                             + f.floating_network_id + ".");
  // A router with a gateway on the floating network and an interface on the port's subnet.
  std::optional<std::string> via;
  for (auto& [rid, r] : st.routers) {
    if (!r.gateway || r.gateway->network_id != f.floating_network_id) continue;
    for (auto& pid : r.interface_ports)
      for (auto& ip : st.ports.at(pid).fixed_ips)
        if (ip.subnet_id == chosen->subnet_id) via = rid;
  }
  if (!via)
    return neutron_error(404, "ExternalGatewayForFloatingIPNotFound",
                         "External network " + f.floating_network_id
                           + " is not reachable from subnet " + chosen->subnet_id
                           + ".  Therefore, cannot associate Port " + port_id
                           + " with a Floating IP.");
  f.port_id = port_id;
  f.fixed_ip_address = chosen->ip_address;
  f.router_id = via;
  return std::nullopt;
}

void disassociate(floating_ip& f) {
  f.port_id.reset();
  f.fixed_ip_address.reset();
  f.router_id.reset();
}

response create(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  if (!doc || !doc->HasMember("floatingip") || !(*doc)["floatingip"].IsObject())
    return neutron_bad_request("Resource body required");
  auto& body = (*doc)["floatingip"];
  for (auto& m : body.GetObject()) {
    auto name = str_of(m.name);
    if (name != "floating_network_id" && name != "port_id" && name != "fixed_ip_address"
        && name != "floating_ip_address" && name != "subnet_id" && name != "description"
        && name != "project_id" && name != "tenant_id")
      return neutron_bad_request("Unrecognized attribute(s) '" + std::string{name} + "'");
  }
  if (!body.HasMember("floating_network_id") || !body["floating_network_id"].IsString())
    return neutron_bad_request(
      "Failed to parse request. Required attribute 'floating_network_id' not "
      "specified");
  std::string net_id = body["floating_network_id"].GetString();
  auto net = st.networks.find(net_id);
  if (net == st.networks.end())
    return neutron_error(404, "NetworkNotFound", "Network " + net_id + " could not be found.");
  if (!net->second.external)
    return neutron_bad_request("Bad floatingip request: Network " + net_id
                               + " is not a valid external network.");
  floating_ip f;
  f.id = st.new_uuid();
  f.project_id = c.auth->project_id;
  f.floating_network_id = net_id;
  if (body.HasMember("description") && body["description"].IsString())
    f.description = body["description"].GetString();
  std::vector<fixed_ip> wanted;
  if (body.HasMember("subnet_id") && body["subnet_id"].IsString())
    wanted.push_back({body["subnet_id"].GetString(), {}});
  if (body.HasMember("floating_ip_address") && body["floating_ip_address"].IsString()) {
    if (wanted.empty() && !net->second.subnets.empty())
      wanted.push_back({net->second.subnets.front(), {}});
    if (!wanted.empty()) wanted.front().ip_address = body["floating_ip_address"].GetString();
  }
  if (wanted.empty() && !net->second.subnets.empty())
    wanted.push_back({net->second.subnets.front(), {}});
  if (wanted.empty())
    return neutron_error(409, "IpAddressGenerationFailure",
                         "No more IP addresses available on network " + net_id + ".");
  auto sn = st.subnets.find(wanted.front().subnet_id);
  if (sn == st.subnets.end() || sn->second.network_id != net_id)
    return neutron_bad_request("Bad floatingip request: Subnet " + wanted.front().subnet_id
                               + " is not on network " + net_id + ".");
  auto addr = st.allocate_ip(sn->second, wanted.front().ip_address.empty()
                                           ? std::nullopt
                                           : std::optional{wanted.front().ip_address});
  if (!addr)
    return neutron_error(409,
                         wanted.front().ip_address.empty() ? "IpAddressGenerationFailure"
                                                           : "IpAddressAlreadyAllocated",
                         wanted.front().ip_address.empty()
                           ? "No more IP addresses available on network " + net_id + "."
                           : "IP address " + wanted.front().ip_address
                               + " already allocated in subnet " + sn->first);
  f.floating_ip_address = *addr;
  f.subnet_id = sn->first;
  auto& holder
    = st.create_port(net->second, "", {{sn->first, *addr}}, "network:floatingip", f.id, c.now);
  f.own_port_id = holder.id;
  if (body.HasMember("port_id") && body["port_id"].IsString()) {
    std::optional<std::string> fixed;
    if (body.HasMember("fixed_ip_address") && body["fixed_ip_address"].IsString())
      fixed = std::string{body["fixed_ip_address"].GetString()};
    if (auto err = associate(st, f, body["port_id"].GetString(), fixed)) {
      st.delete_port(holder.id);
      return *err;
    }
  }
  f.revision = 0;
  f.created = f.updated = iso_seconds(c.now);
  auto& stored = st.floating_ips[f.id] = f;
  return one_floating_ip(201, st, stored);
}

} // namespace

void write_floating_ip(json_writer& w, const impl_state& st, const floating_ip& f) {
  w.StartObject();
  w.Key("fixed_ip_address");
  write_opt(w, f.fixed_ip_address);
  w.Key("floating_ip_address");
  write_str(w, f.floating_ip_address);
  w.Key("floating_network_id");
  write_str(w, f.floating_network_id);
  w.Key("id");
  write_str(w, f.id);
  w.Key("port_id");
  write_opt(w, f.port_id);
  w.Key("router_id");
  write_opt(w, f.router_id);
  w.Key("status");
  w.String(f.port_id ? "ACTIVE" : "DOWN");
  w.Key("project_id");
  write_str(w, f.project_id);
  w.Key("tenant_id");
  write_str(w, f.project_id);
  w.Key("description");
  write_str(w, f.description);
  w.Key("dns_domain");
  w.String("");
  w.Key("dns_name");
  w.String("");
  w.Key("created_at");
  write_str(w, f.created);
  w.Key("updated_at");
  write_str(w, f.updated);
  w.Key("revision_number");
  w.Int(f.revision);
  w.Key("port_details");
  auto p = f.port_id ? st.ports.find(*f.port_id) : st.ports.end();
  if (p == st.ports.end()) {
    w.Null();
  } else {
    w.StartObject();
    w.Key("status");
    w.String(p->second.device_id.empty() ? "DOWN" : "ACTIVE");
    w.Key("name");
    write_str(w, p->second.name);
    w.Key("admin_state_up");
    w.Bool(p->second.admin_state_up);
    w.Key("network_id");
    write_str(w, p->second.network_id);
    w.Key("device_owner");
    write_str(w, p->second.device_owner);
    w.Key("mac_address");
    write_str(w, p->second.mac_address);
    w.Key("device_id");
    write_str(w, p->second.device_id);
    w.EndObject();
  }
  w.Key("tags");
  write_strings(w, f.tags);
  w.Key("port_forwardings");
  w.StartArray();
  w.EndArray();
  w.Key("qos_policy_id");
  w.Null();
  w.EndObject();
}

std::vector<std::string> floating_ips_via(const impl_state& st, const std::string& router_id,
                                          const std::string& subnet_id) {
  std::vector<std::string> result;
  for (auto& [id, f] : st.floating_ips) {
    if (f.router_id != router_id || !f.port_id) continue;
    if (subnet_id.empty()) {
      result.push_back(id);
      continue;
    }
    auto p = st.ports.find(*f.port_id);
    if (p == st.ports.end()) continue;
    for (auto& ip : p->second.fixed_ips)
      if (ip.subnet_id == subnet_id && ip.ip_address == f.fixed_ip_address) result.push_back(id);
  }
  return result;
}

void release_floating_ips_of(impl_state& st, const std::string& port_id) {
  for (auto& [id, f] : st.floating_ips) {
    if (f.port_id == port_id) {
      disassociate(f);
      ++f.revision;
    }
  }
}

void add_floating_ip_routes(impl_state& table) {
  auto add = [&](std::string method, std::string pattern, route_fn fn) {
    add_route(table, service_family::network, "network", std::move(method),
              "/networking/v2.0" + pattern, std::move(fn), true);
  };
  add("GET", "/floatingips", [](impl_state& st, call& c) {
    std::vector<std::string> objects;
    for (auto& [id, f] : st.floating_ips)
      objects.push_back(render([&](json_writer& w) { write_floating_ip(w, st, f); }));
    return neutron_list(st, c, "floatingips", objects);
  });
  add("POST", "/floatingips", create);
  add("GET", "/floatingips/{id}", [](impl_state& st, call& c) {
    auto f = st.floating_ips.find(c.params[0]);
    if (f == st.floating_ips.end()) return not_found(c.params[0]);
    return one_floating_ip(200, st, f->second);
  });
  add("PUT", "/floatingips/{id}", [](impl_state& st, call& c) {
    auto f = st.floating_ips.find(c.params[0]);
    if (f == st.floating_ips.end()) return not_found(c.params[0]);
    auto doc = parse_body(c.req);
    if (!doc || !doc->HasMember("floatingip") || !(*doc)["floatingip"].IsObject())
      return neutron_bad_request("Resource body required");
    auto& body = (*doc)["floatingip"];
    if (body.HasMember("port_id")) {
      if (body["port_id"].IsNull()) {
        disassociate(f->second);
      } else if (body["port_id"].IsString()) {
        std::optional<std::string> fixed;
        if (body.HasMember("fixed_ip_address") && body["fixed_ip_address"].IsString())
          fixed = std::string{body["fixed_ip_address"].GetString()};
        auto copy = f->second;
        if (auto err = associate(st, copy, body["port_id"].GetString(), fixed)) return *err;
        f->second = copy;
      }
    }
    if (body.HasMember("description") && body["description"].IsString())
      f->second.description = body["description"].GetString();
    ++f->second.revision;
    f->second.updated = iso_seconds(c.now);
    return one_floating_ip(200, st, f->second);
  });
  add("DELETE", "/floatingips/{id}", [](impl_state& st, call& c) {
    auto f = st.floating_ips.find(c.params[0]);
    if (f == st.floating_ips.end()) return not_found(c.params[0]);
    auto holder = f->second.own_port_id;
    st.floating_ips.erase(f);
    st.delete_port(holder);
    return empty_response(204);
  });
}

} // namespace orch::sim
