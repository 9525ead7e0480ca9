// Neutron v2.0: networks, subnets with a real address allocator, ports, routers with gateways
// and interfaces, tags, and the delete-order conflicts a real Neutron enforces.

#include <algorithm>
#include <set>

#include "service.hpp"

namespace orch::sim {

namespace {

using doc_ptr = std::optional<rapidjson::Document>;

response not_found(std::string_view kind, std::string_view id) {
  return neutron_error(404, std::string{kind} + "NotFound",
                       std::string{kind} + " " + std::string{id} + " could not be found.");
}

std::string value_text(const rapidjson::Value& v) {
  if (v.IsString()) return v.GetString();
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsNull()) return "";
  return "\x01"; // never equal to a query value
}

bool tags_match(const rapidjson::Value& obj, const call& c) {
  std::set<std::string> have;
  if (obj.HasMember("tags") && obj["tags"].IsArray())
    for (auto& t : obj["tags"].GetArray()) have.insert(std::string{str_of(t)});
  for (auto& v : c.args("tags"))
    for (auto& t : split_commas(v))
      if (!have.count(t)) return false;
  for (auto& v : c.args("tags-any")) {
    bool any = false;
    for (auto& t : split_commas(v)) any = any || have.count(t);
    if (!any) return false;
  }
  for (auto& v : c.args("not-tags")) {
    bool all = true;
    for (auto& t : split_commas(v)) all = all && have.count(t);
    if (all) return false;
  }
  for (auto& v : c.args("not-tags-any"))
    for (auto& t : split_commas(v))
      if (have.count(t)) return false;
  return true;
}

bool fixed_ips_match(const rapidjson::Value& obj, const std::string& filter) {
  auto eq = filter.find('=');
  if (eq == std::string::npos || !obj.HasMember("fixed_ips")) return false;
  auto key = filter.substr(0, eq);
  auto value = filter.substr(eq + 1);
  for (auto& ip : obj["fixed_ips"].GetArray())
    if (ip.HasMember(key.c_str()) && str_of(ip[key.c_str()]) == value) return true;
  return false;
}

/// Whether `obj` can pass the `id`, `name` and `tags` filters of `c`, tested on the stored
/// object before it is rendered: Neutron answers these from indexes, and rendering and parsing
/// every object per call made the simulator the bottleneck with thousands of deployments.
/// `list` applies every filter again on what passes.
template <class T>
bool may_match(const T& obj, const call& c) {
  auto wanted = [&](const char* key, const std::string& value) {
    auto values = c.args(key);
    return values.empty() || std::find(values.begin(), values.end(), value) != values.end();
  };
  if (!wanted("id", obj.id) || !wanted("name", obj.name)) return false;
  for (auto& v : c.args("tags"))
    for (auto& t : split_commas(v))
      if (std::find(obj.tags.begin(), obj.tags.end(), t) == obj.tags.end()) return false;
  return true;
}

/// Filters, trims and pages rendered objects as Neutron's list API does.
response list(const impl_state& st, const call& c, const std::string& collection,
              const std::vector<std::string>& objects) {
  static const std::set<std::string> control{"limit",    "marker",       "page_reverse", "fields",
                                             "sort_key", "sort_dir",     "tags",         "tags-any",
                                             "not-tags", "not-tags-any", "fixed_ips"};
  std::map<std::string, std::set<std::string>> filters;
  for (auto& [k, v] : c.query)
    if (!control.count(k)) filters[k].insert(v);
  auto fields = c.args("fields");
  size_t limit = 0;
  if (auto l = c.arg("limit")) {
    try {
      limit = static_cast<size_t>(std::stoul(*l));
    } catch (...) {
      return neutron_bad_request(
        "Bad limit request: Limit must be an integer 0 or greater and not '" + *l + "'.");
    }
  }
  auto marker = c.arg("marker");
  rapidjson::Document out;
  out.SetObject();
  auto& alloc = out.GetAllocator();
  rapidjson::Value items{rapidjson::kArrayType};
  bool past_marker = !marker;
  // Neutron reads one row past the page to decide whether a next link is due.
  bool more = false;
  std::string last_id;
  for (auto& text : objects) {
    rapidjson::Document obj{&alloc};
    obj.Parse(text.c_str());
    for (auto& [key, values] : filters) {
      if (!obj.HasMember(key.c_str()))
        return neutron_bad_request("[" + key + "] is invalid attribute for filtering");
    }
    if (!past_marker) {
      if (str_of(obj["id"]) == *marker) {
        past_marker = true;
      }
      continue;
    }
    bool ok = tags_match(obj, c);
    for (auto& [key, values] : filters) ok = ok && values.count(value_text(obj[key.c_str()]));
    for (auto& f : c.args("fixed_ips")) ok = ok && fixed_ips_match(obj, f);
    if (!ok) continue;
    if (limit != 0 && items.Size() == limit) {
      more = true;
      break;
    }
    last_id = str_of(obj["id"]);
    if (!fields.empty()) {
      rapidjson::Value trimmed{rapidjson::kObjectType};
      for (auto& m : obj.GetObject())
        if (std::find(fields.begin(), fields.end(), str_of(m.name)) != fields.end())
          trimmed.AddMember(rapidjson::Value{m.name, alloc}, rapidjson::Value{m.value, alloc},
                            alloc);
      items.PushBack(trimmed, alloc);
    } else {
      items.PushBack(rapidjson::Value{obj, alloc}, alloc);
    }
  }
  out.AddMember(rapidjson::Value{collection.c_str(), alloc}, items, alloc);
  if (more) {
    rapidjson::Value links{rapidjson::kArrayType};
    rapidjson::Value link{rapidjson::kObjectType};
    std::string query;
    for (auto& [k, v] : c.query)
      if (k != "marker") query += percent_encode(k) + "=" + percent_encode(v) + "&";
    query += "marker=" + last_id;
    link.AddMember("rel", "next", alloc);
    link.AddMember(
      "href", rapidjson::Value{(st.cfg.base_url + c.req.path + "?" + query).c_str(), alloc}, alloc);
    links.PushBack(link, alloc);
    out.AddMember(rapidjson::Value{(collection + "_links").c_str(), alloc}, links, alloc);
  }
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  out.Accept(w);
  return json_response(200, buf.GetString());
}

/// Rejects attributes the resource does not know (Neutron answers 400 for them).
std::optional<response> check_attributes(const rapidjson::Value& body,
                                         std::initializer_list<std::string_view> known) {
  for (auto& m : body.GetObject()) {
    auto name = str_of(m.name);
    if (std::find(known.begin(), known.end(), name) == known.end())
      return neutron_bad_request("Unrecognized attribute(s) '" + std::string{name} + "'");
  }
  return std::nullopt;
}

/// The object under `key` of a request body, or an error answer.
const rapidjson::Value* body_object(const doc_ptr& doc, const char* key) {
  if (!doc || !doc->HasMember(key) || !(*doc)[key].IsObject()) return nullptr;
  return &(*doc)[key];
}

void touch(int& revision, std::string& updated, time_point now) {
  ++revision;
  updated = iso_seconds(now);
}

// -- networks ---------------------------------------------------------------------------

response create_network(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  auto body = body_object(doc, "network");
  if (body == nullptr) return neutron_bad_request("Resource body required");
  if (auto err = check_attributes(*body, {"name", "admin_state_up", "description", "shared",
                                          "router:external", "mtu", "port_security_enabled",
                                          "project_id", "tenant_id", "availability_zone_hints",
                                          "dns_domain", "qos_policy_id", "is_default"}))
    return *err;
  int used = 0;
  for (auto& [id, n] : st.networks) used += n.project_id == c.auth->project_id;
  if (used >= st.cfg.quotas.networks)
    return neutron_error(409, "OverQuota", "Quota exceeded for resources: ['network'].");
  network n;
  n.id = st.new_uuid();
  n.name = opt_string(*body, "name").value_or("");
  n.description = opt_string(*body, "description").value_or("");
  n.project_id = c.auth->project_id;
  if (body->HasMember("admin_state_up") && (*body)["admin_state_up"].IsBool())
    n.admin_state_up = (*body)["admin_state_up"].GetBool();
  if (body->HasMember("shared") && (*body)["shared"].IsBool())
    n.shared = (*body)["shared"].GetBool();
  if (body->HasMember("router:external") && (*body)["router:external"].IsBool())
    n.external = (*body)["router:external"].GetBool();
  if (body->HasMember("mtu") && (*body)["mtu"].IsInt()) n.mtu = (*body)["mtu"].GetInt();
  n.revision = 1;
  n.created = n.updated = iso_seconds(c.now);
  auto& stored = st.networks[n.id] = std::move(n);
  return single(201, "network", [&](json_writer& w) { write_network(w, stored); });
}

network* find_network(impl_state& st, const std::string& id) {
  auto i = st.networks.find(id);
  return i == st.networks.end() ? nullptr : &i->second;
}

response show_network(impl_state& st, call& c) {
  auto n = find_network(st, c.params[0]);
  if (n == nullptr) return not_found("Network", c.params[0]);
  return single(200, "network", [&](json_writer& w) { write_network(w, *n); });
}

response list_networks(impl_state& st, call& c) {
  std::vector<std::string> objects;
  for (auto& [id, n] : st.networks)
    if (may_match(n, c)) objects.push_back(render([&](json_writer& w) { write_network(w, n); }));
  return list(st, c, "networks", objects);
}

response update_network(impl_state& st, call& c) {
  auto n = find_network(st, c.params[0]);
  if (n == nullptr) return not_found("Network", c.params[0]);
  auto doc = parse_body(c.req);
  auto body = body_object(doc, "network");
  if (body == nullptr) return neutron_bad_request("Resource body required");
  if (auto err = check_attributes(
        *body, {"name", "admin_state_up", "description", "mtu", "shared", "port_security_enabled"}))
    return *err;
  if (auto v = opt_string(*body, "name")) n->name = *v;
  if (auto v = opt_string(*body, "description")) n->description = *v;
  if (body->HasMember("admin_state_up") && (*body)["admin_state_up"].IsBool())
    n->admin_state_up = (*body)["admin_state_up"].GetBool();
  if (body->HasMember("mtu") && (*body)["mtu"].IsInt()) n->mtu = (*body)["mtu"].GetInt();
  touch(n->revision, n->updated, c.now);
  return single(200, "network", [&](json_writer& w) { write_network(w, *n); });
}

response delete_network(impl_state& st, call& c) {
  auto n = find_network(st, c.params[0]);
  if (n == nullptr) return not_found("Network", c.params[0]);
  std::vector<std::string> in_use;
  for (auto& [id, p] : st.ports)
    if (p.network_id == n->id && p.device_owner != "network:dhcp") in_use.push_back(id);
  if (!in_use.empty()) {
    std::string ids;
    for (auto& id : in_use) ids += (ids.empty() ? "" : ", ") + id;
    return neutron_error(409, "NetworkInUse",
                         "Unable to complete operation on network " + n->id
                           + ". There are one or more ports still in use on the network, id for "
                             "these ports is: "
                           + ids + ".");
  }
  std::vector<std::string> owned;
  for (auto& [id, p] : st.ports)
    if (p.network_id == n->id) owned.push_back(id);
  for (auto& id : owned) st.delete_port(id);
  for (auto& sid : n->subnets) st.subnets.erase(sid);
  st.networks.erase(n->id);
  return empty_response(204);
}

// -- subnets ----------------------------------------------------------------------------

subnet* find_subnet(impl_state& st, const std::string& id) {
  auto i = st.subnets.find(id);
  return i == st.subnets.end() ? nullptr : &i->second;
}

response create_subnet(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  auto body = body_object(doc, "subnet");
  if (body == nullptr) return neutron_bad_request("Resource body required");
  if (auto err = check_attributes(
        *body, {"name", "description", "network_id", "ip_version", "cidr", "gateway_ip",
                "allocation_pools", "enable_dhcp", "dns_nameservers", "host_routes",
                "ipv6_address_mode", "ipv6_ra_mode", "project_id", "tenant_id", "subnetpool_id",
                "segment_id", "service_types", "dns_publish_fixed_ip"}))
    return *err;
  auto net_id = opt_string(*body, "network_id");
  if (!net_id)
    return neutron_bad_request(
      "Failed to parse request. Required attribute 'network_id' not specified");
  auto net = find_network(st, *net_id);
  if (net == nullptr) return not_found("Network", *net_id);
  if (!body->HasMember("ip_version") || !(*body)["ip_version"].IsInt()
      || ((*body)["ip_version"].GetInt() != 4 && (*body)["ip_version"].GetInt() != 6))
    return neutron_bad_request("Invalid input for ip_version. Reason: ip_version must be 4 or 6.");
  int version = (*body)["ip_version"].GetInt();
  auto cidr_text = opt_string(*body, "cidr");
  if (!cidr_text)
    return neutron_bad_request(
      "Bad subnets request: a subnetpool must be specified in the absence of a "
      "cidr.");
  auto net_cidr = parse_cidr(*cidr_text);
  if (!net_cidr)
    return neutron_bad_request("Invalid input for cidr. Reason: '" + *cidr_text
                               + "' is not a valid IP subnet.");
  if (net_cidr->version != version)
    return neutron_bad_request("Invalid input for operation: Cidr " + *cidr_text
                               + " does not match the ip_version " + std::to_string(version) + ".");
  for (auto& sid : net->subnets) {
    auto& other = st.subnets.at(sid);
    if (other.ip_version != version) continue;
    // Two networks overlap when they agree on the bits of the shorter prefix.
    auto shorter = std::min(other.prefix, net_cidr->prefix);
    auto a = parse_cidr(address_at(version, other.base, 0) + "/" + std::to_string(shorter));
    auto b = parse_cidr(address_at(version, net_cidr->base, 0) + "/" + std::to_string(shorter));
    if (a && b && a->base == b->base)
      return neutron_bad_request("Invalid input for operation: Requested subnet with cidr: "
                                 + *cidr_text + " for network: " + net->id
                                 + " overlaps with another subnet.");
  }
  subnet sn;
  sn.id = st.new_uuid();
  sn.name = opt_string(*body, "name").value_or("");
  sn.description = opt_string(*body, "description").value_or("");
  sn.network_id = net->id;
  sn.project_id = c.auth->project_id;
  sn.ip_version = version;
  sn.base = net_cidr->base;
  sn.prefix = net_cidr->prefix;
  auto last = last_offset(*net_cidr);
  if (!body->HasMember("gateway_ip")) {
    sn.gateway = 1;
  } else if ((*body)["gateway_ip"].IsNull()) {
    sn.gateway.reset();
  } else {
    auto addr = parse_address(str_of((*body)["gateway_ip"]), version);
    auto off = addr ? offset_in(*net_cidr, *addr) : std::nullopt;
    if (!off || *off == 0 || *off > last)
      return neutron_bad_request("Invalid input for operation: Gateway is not valid on subnet.");
    sn.gateway = *off;
  }
  if (body->HasMember("allocation_pools") && (*body)["allocation_pools"].IsArray()) {
    for (auto& pool : (*body)["allocation_pools"].GetArray()) {
      if (!pool.IsObject() || !pool.HasMember("start") || !pool.HasMember("end"))
        return neutron_bad_request("Invalid input for allocation_pools.");
      auto s = parse_address(str_of(pool["start"]), version);
      auto e = parse_address(str_of(pool["end"]), version);
      auto so = s ? offset_in(*net_cidr, *s) : std::nullopt;
      auto eo = e ? offset_in(*net_cidr, *e) : std::nullopt;
      if (!so || !eo || *so == 0 || *eo > last || *eo < *so)
        return neutron_bad_request("The allocation pool " + std::string{str_of(pool["start"])} + "-"
                                   + std::string{str_of(pool["end"])}
                                   + " spans beyond the subnet cidr " + *cidr_text + ".");
      if (sn.gateway && *sn.gateway >= *so && *sn.gateway <= *eo)
        return neutron_error(409, "GatewayConflictWithAllocationPools",
                             "Gateway ip " + address_at(version, sn.base, *sn.gateway)
                               + " conflicts with allocation pool "
                               + std::string{str_of(pool["start"])} + "-"
                               + std::string{str_of(pool["end"])} + ".");
      sn.pools.push_back({*so, *eo});
    }
  } else {
    // The whole range minus the gateway, split around it as Neutron does.
    uint64_t first = 1;
    if (sn.gateway && *sn.gateway > first) sn.pools.push_back({first, *sn.gateway - 1});
    if (sn.gateway && *sn.gateway >= first) first = *sn.gateway + 1;
    if (first <= last) sn.pools.push_back({first, last});
  }
  if (body->HasMember("enable_dhcp") && (*body)["enable_dhcp"].IsBool())
    sn.enable_dhcp = (*body)["enable_dhcp"].GetBool();
  if (body->HasMember("dns_nameservers") && (*body)["dns_nameservers"].IsArray())
    for (auto& d : (*body)["dns_nameservers"].GetArray())
      sn.dns_nameservers.emplace_back(str_of(d));
  sn.ipv6_address_mode = opt_string(*body, "ipv6_address_mode");
  sn.ipv6_ra_mode = opt_string(*body, "ipv6_ra_mode");
  sn.revision = 0;
  sn.created = sn.updated = iso_seconds(c.now);
  net->subnets.push_back(sn.id);
  touch(net->revision, net->updated, c.now);
  auto& stored = st.subnets[sn.id] = std::move(sn);
  return single(201, "subnet", [&](json_writer& w) { write_subnet(w, stored); });
}

response show_subnet(impl_state& st, call& c) {
  auto sn = find_subnet(st, c.params[0]);
  if (sn == nullptr) return not_found("Subnet", c.params[0]);
  return single(200, "subnet", [&](json_writer& w) { write_subnet(w, *sn); });
}

response list_subnets(impl_state& st, call& c) {
  std::vector<std::string> objects;
  auto networks = c.args("network_id");
  for (auto& [id, sn] : st.subnets)
    if (may_match(sn, c)
        && (networks.empty()
            || std::find(networks.begin(), networks.end(), sn.network_id) != networks.end()))
      objects.push_back(render([&](json_writer& w) { write_subnet(w, sn); }));
  return list(st, c, "subnets", objects);
}

response update_subnet(impl_state& st, call& c) {
  auto sn = find_subnet(st, c.params[0]);
  if (sn == nullptr) return not_found("Subnet", c.params[0]);
  auto doc = parse_body(c.req);
  auto body = body_object(doc, "subnet");
  if (body == nullptr) return neutron_bad_request("Resource body required");
  if (auto err = check_attributes(
        *body, {"name", "description", "enable_dhcp", "dns_nameservers", "host_routes"}))
    return *err;
  if (auto v = opt_string(*body, "name")) sn->name = *v;
  if (auto v = opt_string(*body, "description")) sn->description = *v;
  if (body->HasMember("enable_dhcp") && (*body)["enable_dhcp"].IsBool())
    sn->enable_dhcp = (*body)["enable_dhcp"].GetBool();
  if (body->HasMember("dns_nameservers") && (*body)["dns_nameservers"].IsArray()) {
    sn->dns_nameservers.clear();
    for (auto& d : (*body)["dns_nameservers"].GetArray())
      sn->dns_nameservers.emplace_back(str_of(d));
  }
  touch(sn->revision, sn->updated, c.now);
  return single(200, "subnet", [&](json_writer& w) { write_subnet(w, *sn); });
}

response delete_subnet(impl_state& st, call& c) {
  auto sn = find_subnet(st, c.params[0]);
  if (sn == nullptr) return not_found("Subnet", c.params[0]);
  for (auto& [id, p] : st.ports)
    for (auto& ip : p.fixed_ips)
      if (ip.subnet_id == sn->id && p.device_owner != "network:dhcp")
        return neutron_error(409, "SubnetInUse",
                             "Unable to complete operation on subnet " + sn->id
                               + ": One or more ports have an IP allocation from this subnet.");
  auto net = find_network(st, sn->network_id);
  if (net != nullptr) {
    std::erase(net->subnets, sn->id);
    touch(net->revision, net->updated, c.now);
  }
  st.subnets.erase(c.params[0]);
  return empty_response(204);
}

// -- ports ------------------------------------------------------------------------------

port* find_port(impl_state& st, const std::string& id) {
  auto i = st.ports.find(id);
  return i == st.ports.end() ? nullptr : &i->second;
}

/// Parses a `fixed_ips` request list into wanted addresses; an error answer if invalid.
std::optional<response> parse_fixed_ips(impl_state& st, const rapidjson::Value& list,
                                        const network& net, std::vector<fixed_ip>& out) {
  if (!list.IsArray()) return neutron_bad_request("Invalid input for fixed_ips.");
  for (auto& item : list.GetArray()) {
    if (!item.IsObject()) return neutron_bad_request("Invalid input for fixed_ips.");
    fixed_ip ip;
    if (item.HasMember("subnet_id")) ip.subnet_id = str_of(item["subnet_id"]);
    if (item.HasMember("ip_address")) ip.ip_address = str_of(item["ip_address"]);
    if (ip.subnet_id.empty()) {
      for (auto& sid : net.subnets) {
        auto& sn = st.subnets.at(sid);
        auto a = parse_address(ip.ip_address, sn.ip_version);
        if (a && offset_in(cidr{sn.ip_version, sn.base, sn.prefix}, *a)) ip.subnet_id = sid;
      }
      if (ip.subnet_id.empty())
        return neutron_bad_request("Invalid input for operation: IP address " + ip.ip_address
                                   + " is not a valid IP for any of the subnets on the specified "
                                     "network.");
    } else if (std::find(net.subnets.begin(), net.subnets.end(), ip.subnet_id)
               == net.subnets.end()) {
      return neutron_bad_request("Invalid input for operation: Failed to create port on network "
                                 + net.id + ", because fixed_ips included invalid subnet "
                                 + ip.subnet_id + ".");
    }
    out.push_back(std::move(ip));
  }
  return std::nullopt;
}

/// Allocates every wanted address (or one per subnet); an error answer if one fails.
std::optional<response> allocate(impl_state& st, const network& net,
                                 std::vector<fixed_ip>& wanted) {
  if (wanted.empty())
    for (auto& sid : net.subnets) wanted.push_back(fixed_ip{sid, {}});
  std::vector<std::pair<subnet*, std::string>> done;
  auto rollback = [&] {
    for (auto& [sn, addr] : done) {
      auto a = parse_address(addr, sn->ip_version);
      if (auto off = offset_in(cidr{sn->ip_version, sn->base, sn->prefix}, *a))
        sn->allocated.erase(*off);
    }
  };
  for (auto& ip : wanted) {
    auto& sn = st.subnets.at(ip.subnet_id);
    auto addr = st.allocate_ip(
      sn, ip.ip_address.empty() ? std::nullopt : std::optional<std::string>{ip.ip_address});
    if (!addr) {
      rollback();
      if (!ip.ip_address.empty())
        return neutron_error(409, "IpAddressAlreadyAllocated",
                             "IP address " + ip.ip_address + " already allocated in subnet "
                               + sn.id);
      return neutron_error(409, "IpAddressGenerationFailure",
                           "No more IP addresses available on network " + net.id + ".");
    }
    ip.ip_address = *addr;
    done.emplace_back(&sn, *addr);
  }
  return std::nullopt;
}

response create_port_call(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  auto body = body_object(doc, "port");
  if (body == nullptr) return neutron_bad_request("Resource body required");
  if (auto err = check_attributes(
        *body, {"name", "description", "network_id", "fixed_ips", "device_id", "device_owner",
                "admin_state_up", "tags", "mac_address", "project_id", "tenant_id",
                "security_groups", "port_security_enabled", "binding:vnic_type", "binding:host_id",
                "binding:profile", "allowed_address_pairs"}))
    return *err;
  auto net_id = opt_string(*body, "network_id");
  if (!net_id)
    return neutron_bad_request(
      "Failed to parse request. Required attribute 'network_id' not specified");
  auto net = find_network(st, *net_id);
  if (net == nullptr) return not_found("Network", *net_id);
  std::vector<std::string> groups;
  if (body->HasMember("security_groups") && (*body)["security_groups"].IsArray()) {
    for (auto& g : (*body)["security_groups"].GetArray()) {
      auto id = std::string{str_of(g)};
      if (!st.security_groups.count(id))
        return neutron_error(404, "SecurityGroupNotFound",
                             "Security group " + id + " does not exist");
      groups.push_back(id);
    }
  } else {
    groups.push_back(default_security_group(st, c.auth->project_id, c.now).id);
  }
  std::vector<fixed_ip> wanted;
  if (body->HasMember("fixed_ips"))
    if (auto err = parse_fixed_ips(st, (*body)["fixed_ips"], *net, wanted)) return *err;
  if (auto err = allocate(st, *net, wanted)) return *err;
  auto& p
    = st.create_port(*net, c.auth->project_id, {}, opt_string(*body, "device_owner").value_or(""),
                     opt_string(*body, "device_id").value_or(""), c.now);
  p.fixed_ips = std::move(wanted);
  p.security_groups = std::move(groups);
  p.name = opt_string(*body, "name").value_or("");
  p.description = opt_string(*body, "description").value_or("");
  if (auto mac = opt_string(*body, "mac_address")) p.mac_address = *mac;
  if (body->HasMember("admin_state_up") && (*body)["admin_state_up"].IsBool())
    p.admin_state_up = (*body)["admin_state_up"].GetBool();
  if (body->HasMember("tags") && (*body)["tags"].IsArray())
    for (auto& t : (*body)["tags"].GetArray()) p.tags.emplace_back(str_of(t));
  return single(201, "port", [&](json_writer& w) { write_port(w, p); });
}

response show_port(impl_state& st, call& c) {
  auto p = find_port(st, c.params[0]);
  if (p == nullptr) return not_found("Port", c.params[0]);
  return single(200, "port", [&](json_writer& w) { write_port(w, *p); });
}

response list_ports(impl_state& st, call& c) {
  std::vector<std::string> objects;
  // Fast path for the most common queries (a server's NICs, a network's ports) without
  // rendering every port: Neutron answers them from an index, and a scan that renders and
  // parses every port per call makes the simulator, not the client, the bottleneck.
  auto devices = c.args("device_id");
  auto networks = c.args("network_id");
  auto wanted = [](const std::vector<std::string>& values, const std::string& value) {
    return values.empty() || std::find(values.begin(), values.end(), value) != values.end();
  };
  for (auto& [id, p] : st.ports)
    if (wanted(devices, p.device_id) && wanted(networks, p.network_id))
      objects.push_back(render([&](json_writer& w) { write_port(w, p); }));
  return list(st, c, "ports", objects);
}

response update_port(impl_state& st, call& c) {
  auto p = find_port(st, c.params[0]);
  if (p == nullptr) return not_found("Port", c.params[0]);
  auto doc = parse_body(c.req);
  auto body = body_object(doc, "port");
  if (body == nullptr) return neutron_bad_request("Resource body required");
  if (auto err
      = check_attributes(*body, {"name", "description", "device_id", "device_owner",
                                 "admin_state_up", "security_groups", "port_security_enabled",
                                 "binding:host_id", "binding:profile", "allowed_address_pairs"}))
    return *err;
  if (auto v = opt_string(*body, "name")) p->name = *v;
  if (auto v = opt_string(*body, "description")) p->description = *v;
  if (auto v = opt_string(*body, "device_id")) p->device_id = *v;
  if (auto v = opt_string(*body, "device_owner")) p->device_owner = *v;
  if (body->HasMember("admin_state_up") && (*body)["admin_state_up"].IsBool())
    p->admin_state_up = (*body)["admin_state_up"].GetBool();
  if (body->HasMember("security_groups") && (*body)["security_groups"].IsArray()) {
    std::vector<std::string> groups;
    for (auto& g : (*body)["security_groups"].GetArray()) {
      auto id = std::string{str_of(g)};
      if (!st.security_groups.count(id))
        return neutron_error(404, "SecurityGroupNotFound",
                             "Security group " + id + " does not exist");
      groups.push_back(id);
    }
    p->security_groups = std::move(groups);
  }
  touch(p->revision, p->updated, c.now);
  return single(200, "port", [&](json_writer& w) { write_port(w, *p); });
}

response delete_port_call(impl_state& st, call& c) {
  auto p = find_port(st, c.params[0]);
  if (p == nullptr) return not_found("Port", c.params[0]);
  if (p->device_owner == "network:router_interface" || p->device_owner == "network:router_gateway")
    return neutron_error(409, "ServicePortInUse",
                         "Port " + p->id
                           + " cannot be deleted directly via the port API: has "
                             "device owner "
                           + p->device_owner + ".");
  st.delete_port(p->id);
  return empty_response(204);
}

// -- routers ----------------------------------------------------------------------------

router* find_router(impl_state& st, const std::string& id) {
  auto i = st.routers.find(id);
  return i == st.routers.end() ? nullptr : &i->second;
}

/// Applies an `external_gateway_info` value: `{}` or null clears, an object sets.
std::optional<response> gateway_in_use(impl_state& st, const router& r) {
  if (!r.gateway || floating_ips_via(st, r.id, "").empty()) return std::nullopt;
  return neutron_error(409, "RouterExternalGatewayInUseByFloatingIp",
                       "Gateway cannot be updated for router " + r.id
                         + ", since a gateway to external network " + r.gateway->network_id
                         + " is required by one or more floating IPs.");
}

std::optional<response> set_gateway(impl_state& st, call& c, router& r,
                                    const rapidjson::Value& info) {
  if (info.IsNull() || (info.IsObject() && info.MemberCount() == 0)) {
    if (auto err = gateway_in_use(st, r)) return err;
    if (r.gateway) st.delete_port(r.gateway->port_id);
    r.gateway.reset();
    return std::nullopt;
  }
  if (!info.IsObject() || !info.HasMember("network_id"))
    return neutron_bad_request("Invalid input for external_gateway_info.");
  auto net_id = std::string{str_of(info["network_id"])};
  auto net = find_network(st, net_id);
  if (net == nullptr) return not_found("Network", net_id);
  if (!net->external)
    return neutron_bad_request("Bad router request: Network " + net_id
                               + " is not an external network.");
  if (r.gateway && r.gateway->network_id == net_id) return std::nullopt;
  if (auto err = gateway_in_use(st, r)) return err;
  std::vector<fixed_ip> wanted;
  if (info.HasMember("external_fixed_ips"))
    if (auto err = parse_fixed_ips(st, info["external_fixed_ips"], *net, wanted)) return *err;
  if (wanted.empty() && !net->subnets.empty()) wanted.push_back(fixed_ip{net->subnets.front(), {}});
  if (auto err = allocate(st, *net, wanted)) return *err;
  if (r.gateway) st.delete_port(r.gateway->port_id);
  auto& p = st.create_port(*net, "", {}, "network:router_gateway", r.id, c.now);
  p.fixed_ips = std::move(wanted);
  router_gateway gw;
  gw.network_id = net_id;
  gw.port_id = p.id;
  if (info.HasMember("enable_snat") && info["enable_snat"].IsBool())
    gw.enable_snat = info["enable_snat"].GetBool();
  r.gateway = gw;
  return std::nullopt;
}

response create_router(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  auto body = body_object(doc, "router");
  if (body == nullptr) return neutron_bad_request("Resource body required");
  if (auto err = check_attributes(
        *body, {"name", "description", "admin_state_up", "external_gateway_info", "project_id",
                "tenant_id", "distributed", "ha", "availability_zone_hints", "flavor_id"}))
    return *err;
  router r;
  r.id = st.new_uuid();
  r.name = opt_string(*body, "name").value_or("");
  r.description = opt_string(*body, "description").value_or("");
  r.project_id = c.auth->project_id;
  if (body->HasMember("admin_state_up") && (*body)["admin_state_up"].IsBool())
    r.admin_state_up = (*body)["admin_state_up"].GetBool();
  if (body->HasMember("external_gateway_info"))
    if (auto err = set_gateway(st, c, r, (*body)["external_gateway_info"])) return *err;
  r.revision = 1;
  r.created = r.updated = iso_seconds(c.now);
  auto& stored = st.routers[r.id] = std::move(r);
  return single(201, "router", [&](json_writer& w) { write_router(w, st, stored); });
}

response show_router(impl_state& st, call& c) {
  auto r = find_router(st, c.params[0]);
  if (r == nullptr) return not_found("Router", c.params[0]);
  return single(200, "router", [&](json_writer& w) { write_router(w, st, *r); });
}

response list_routers(impl_state& st, call& c) {
  std::vector<std::string> objects;
  for (auto& [id, r] : st.routers)
    if (may_match(r, c)) objects.push_back(render([&](json_writer& w) { write_router(w, st, r); }));
  return list(st, c, "routers", objects);
}

response update_router(impl_state& st, call& c) {
  auto r = find_router(st, c.params[0]);
  if (r == nullptr) return not_found("Router", c.params[0]);
  auto doc = parse_body(c.req);
  auto body = body_object(doc, "router");
  if (body == nullptr) return neutron_bad_request("Resource body required");
  if (auto err = check_attributes(
        *body, {"name", "description", "admin_state_up", "external_gateway_info", "routes"}))
    return *err;
  if (auto v = opt_string(*body, "name")) r->name = *v;
  if (auto v = opt_string(*body, "description")) r->description = *v;
  if (body->HasMember("admin_state_up") && (*body)["admin_state_up"].IsBool())
    r->admin_state_up = (*body)["admin_state_up"].GetBool();
  if (body->HasMember("external_gateway_info"))
    if (auto err = set_gateway(st, c, *r, (*body)["external_gateway_info"])) return *err;
  touch(r->revision, r->updated, c.now);
  return single(200, "router", [&](json_writer& w) { write_router(w, st, *r); });
}

response delete_router(impl_state& st, call& c) {
  auto r = find_router(st, c.params[0]);
  if (r == nullptr) return not_found("Router", c.params[0]);
  if (!r->interface_ports.empty()) {
    std::string ids;
    for (auto& id : r->interface_ports) ids += (ids.empty() ? "" : ", ") + id;
    return neutron_error(409, "RouterInUse",
                         "Router " + r->id + " has ports still attached: " + ids);
  }
  if (auto err = gateway_in_use(st, *r)) return *err;
  if (r->gateway) st.delete_port(r->gateway->port_id);
  st.routers.erase(r->id);
  return empty_response(204);
}

response interface_info(const router& r, const port& p) {
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("id");
                         write_str(w, r.id);
                         w.Key("network_id");
                         write_str(w, p.network_id);
                         w.Key("port_id");
                         write_str(w, p.id);
                         w.Key("subnet_id");
                         write_str(w, p.fixed_ips.empty() ? "" : p.fixed_ips[0].subnet_id);
                         w.Key("subnet_ids");
                         w.StartArray();
                         for (auto& ip : p.fixed_ips) write_str(w, ip.subnet_id);
                         w.EndArray();
                         w.Key("project_id");
                         write_str(w, r.project_id);
                         w.Key("tenant_id");
                         write_str(w, r.project_id);
                         w.Key("tags");
                         write_strings(w, r.tags);
                         w.EndObject();
                       }));
}

response add_interface(impl_state& st, call& c) {
  auto r = find_router(st, c.params[0]);
  if (r == nullptr) return not_found("Router", c.params[0]);
  auto doc = parse_body(c.req);
  if (!doc) return neutron_bad_request("Resource body required");
  auto subnet_id = opt_string(*doc, "subnet_id");
  auto port_id = opt_string(*doc, "port_id");
  if (subnet_id.has_value() == port_id.has_value())
    return neutron_bad_request(
      "Bad router request: Either subnet_id or port_id must be specified.");
  if (port_id) {
    auto p = find_port(st, *port_id);
    if (p == nullptr) return not_found("Port", *port_id);
    if (!p->device_id.empty())
      return neutron_error(409, "PortInUse",
                           "Unable to complete operation for network " + p->network_id
                             + ". The port " + p->id + " has already been used by device "
                             + p->device_id + ".");
    p->device_id = r->id;
    p->device_owner = "network:router_interface";
    r->interface_ports.push_back(p->id);
    touch(r->revision, r->updated, c.now);
    return interface_info(*r, *p);
  }
  auto sn = find_subnet(st, *subnet_id);
  if (sn == nullptr) return not_found("Subnet", *subnet_id);
  if (!sn->gateway)
    return neutron_bad_request(
      "Bad router request: Subnet for router interface must have a gateway "
      "IP.");
  for (auto& pid : r->interface_ports)
    for (auto& ip : st.ports.at(pid).fixed_ips)
      if (ip.subnet_id == sn->id)
        return neutron_bad_request("Bad router request: Router already has a port on subnet "
                                   + sn->id + ".");
  auto gw = address_at(sn->ip_version, sn->base, *sn->gateway);
  std::vector<fixed_ip> wanted{fixed_ip{sn->id, gw}};
  auto net = find_network(st, sn->network_id);
  if (auto err = allocate(st, *net, wanted)) return *err;
  auto& p = st.create_port(*net, r->project_id, {}, "network:router_interface", r->id, c.now);
  p.fixed_ips = std::move(wanted);
  r->interface_ports.push_back(p.id);
  touch(r->revision, r->updated, c.now);
  return interface_info(*r, p);
}

response remove_interface(impl_state& st, call& c) {
  auto r = find_router(st, c.params[0]);
  if (r == nullptr) return not_found("Router", c.params[0]);
  auto doc = parse_body(c.req);
  if (!doc) return neutron_bad_request("Resource body required");
  auto subnet_id = opt_string(*doc, "subnet_id");
  auto port_id = opt_string(*doc, "port_id");
  if (!subnet_id && !port_id)
    return neutron_bad_request(
      "Bad router request: Either subnet_id or port_id must be specified.");
  std::string found;
  for (auto& pid : r->interface_ports) {
    auto& p = st.ports.at(pid);
    if (port_id && pid != *port_id) continue;
    if (subnet_id) {
      bool on_subnet = false;
      for (auto& ip : p.fixed_ips) on_subnet = on_subnet || ip.subnet_id == *subnet_id;
      if (!on_subnet) continue;
    }
    found = pid;
  }
  if (found.empty()) {
    if (port_id)
      return neutron_error(404, "RouterInterfaceNotFound",
                           "Router " + r->id + " does not have an interface with id " + *port_id);
    return neutron_error(404, "RouterInterfaceNotFoundForSubnet",
                         "Router " + r->id + " has no interface on subnet " + *subnet_id);
  }
  auto p = st.ports.at(found);
  for (auto& ip : p.fixed_ips)
    if (!floating_ips_via(st, r->id, ip.subnet_id).empty())
      return neutron_error(409, "RouterInterfaceInUseByFloatingIP",
                           "Router interface for subnet " + ip.subnet_id + " on router " + r->id
                             + " cannot be deleted, as it is required by one or more floating "
                               "IPs.");
  auto answer = interface_info(*r, p);
  std::erase(r->interface_ports, found);
  st.delete_port(found);
  touch(r->revision, r->updated, c.now);
  return answer;
}

// -- tags -------------------------------------------------------------------------------

struct taggable {
  std::vector<std::string>* tags = nullptr;
  int* revision = nullptr;
};

std::optional<taggable> find_taggable(impl_state& st, const std::string& kind,
                                      const std::string& id) {
  if (kind == "networks")
    if (auto x = find_network(st, id)) return taggable{&x->tags, &x->revision};
  if (kind == "subnets")
    if (auto x = find_subnet(st, id)) return taggable{&x->tags, &x->revision};
  if (kind == "ports")
    if (auto x = find_port(st, id)) return taggable{&x->tags, &x->revision};
  if (kind == "routers")
    if (auto x = find_router(st, id)) return taggable{&x->tags, &x->revision};
  return std::nullopt;
}

response tag_target_missing(const std::string& kind, const std::string& id) {
  static const std::map<std::string, std::string> names{
    {"networks", "Network"}, {"subnets", "Subnet"}, {"ports", "Port"}, {"routers", "Router"}};
  if (kind == "security-groups")
    return neutron_error(404, "SecurityGroupNotFound", "Security group " + id + " does not exist");
  if (kind == "floatingips")
    return neutron_error(404, "FloatingIPNotFound", "Floating IP " + id + " could not be found");
  auto i = names.find(kind);
  if (i == names.end())
    return neutron_error(404, "HTTPNotFound", "The resource could not be found.");
  return not_found(i->second, id);
}

response tags_answer(const std::vector<std::string>& tags) {
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("tags");
                         write_strings(w, tags);
                         w.EndObject();
                       }));
}

std::optional<response> check_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 255)
    return neutron_bad_request("Invalid input for operation: '" + std::string{tag}
                               + "' exceeds maximum length of 255.");
  return std::nullopt;
}

} // namespace

response neutron_list(const impl_state& st, const call& c, const std::string& collection,
                      const std::vector<std::string>& objects) {
  return list(st, c, collection, objects);
}

// -- renderers --------------------------------------------------------------------------

void write_network(json_writer& w, const network& n) {
  w.StartObject();
  w.Key("admin_state_up");
  w.Bool(n.admin_state_up);
  w.Key("availability_zone_hints");
  w.StartArray();
  w.EndArray();
  w.Key("availability_zones");
  w.StartArray();
  w.String("nova");
  w.EndArray();
  w.Key("created_at");
  write_str(w, n.created);
  w.Key("description");
  write_str(w, n.description);
  w.Key("dns_domain");
  w.String("");
  w.Key("id");
  write_str(w, n.id);
  w.Key("ipv4_address_scope");
  w.Null();
  w.Key("ipv6_address_scope");
  w.Null();
  w.Key("is_default");
  w.Bool(false);
  w.Key("l2_adjacency");
  w.Bool(true);
  w.Key("mtu");
  w.Int(n.mtu);
  w.Key("name");
  write_str(w, n.name);
  w.Key("port_security_enabled");
  w.Bool(true);
  w.Key("project_id");
  write_str(w, n.project_id);
  w.Key("qos_policy_id");
  w.Null();
  w.Key("revision_number");
  w.Int(n.revision);
  w.Key("router:external");
  w.Bool(n.external);
  w.Key("shared");
  w.Bool(n.shared);
  w.Key("status");
  w.String("ACTIVE");
  w.Key("subnets");
  write_strings(w, n.subnets);
  w.Key("tags");
  write_strings(w, n.tags);
  w.Key("tenant_id");
  write_str(w, n.project_id);
  w.Key("updated_at");
  write_str(w, n.updated);
  w.Key("vlan_transparent");
  w.Bool(false);
  w.EndObject();
}

void write_subnet(json_writer& w, const subnet& s) {
  w.StartObject();
  w.Key("name");
  write_str(w, s.name);
  w.Key("enable_dhcp");
  w.Bool(s.enable_dhcp);
  w.Key("network_id");
  write_str(w, s.network_id);
  w.Key("segment_id");
  w.Null();
  w.Key("project_id");
  write_str(w, s.project_id);
  w.Key("tenant_id");
  write_str(w, s.project_id);
  w.Key("dns_nameservers");
  write_strings(w, s.dns_nameservers);
  w.Key("dns_publish_fixed_ip");
  w.Bool(false);
  w.Key("allocation_pools");
  w.StartArray();
  for (auto& p : s.pools) {
    w.StartObject();
    w.Key("start");
    write_str(w, address_at(s.ip_version, s.base, p.first));
    w.Key("end");
    write_str(w, address_at(s.ip_version, s.base, p.last));
    w.EndObject();
  }
  w.EndArray();
  w.Key("host_routes");
  w.StartArray();
  w.EndArray();
  w.Key("ip_version");
  w.Int(s.ip_version);
  w.Key("gateway_ip");
  if (s.gateway)
    write_str(w, address_at(s.ip_version, s.base, *s.gateway));
  else
    w.Null();
  w.Key("cidr");
  write_str(w, address_at(s.ip_version, s.base, 0) + "/" + std::to_string(s.prefix));
  w.Key("id");
  write_str(w, s.id);
  w.Key("created_at");
  write_str(w, s.created);
  w.Key("description");
  write_str(w, s.description);
  w.Key("ipv6_address_mode");
  write_opt(w, s.ipv6_address_mode);
  w.Key("ipv6_ra_mode");
  write_opt(w, s.ipv6_ra_mode);
  w.Key("revision_number");
  w.Int(s.revision);
  w.Key("service_types");
  w.StartArray();
  w.EndArray();
  w.Key("subnetpool_id");
  w.Null();
  w.Key("tags");
  write_strings(w, s.tags);
  w.Key("updated_at");
  write_str(w, s.updated);
  w.EndObject();
}

void write_port(json_writer& w, const port& p) {
  w.StartObject();
  w.Key("id");
  write_str(w, p.id);
  w.Key("name");
  write_str(w, p.name);
  w.Key("network_id");
  write_str(w, p.network_id);
  w.Key("tenant_id");
  write_str(w, p.project_id);
  w.Key("mac_address");
  write_str(w, p.mac_address);
  w.Key("admin_state_up");
  w.Bool(p.admin_state_up);
  w.Key("status");
  w.String(p.device_id.empty() ? "DOWN" : "ACTIVE");
  w.Key("device_id");
  write_str(w, p.device_id);
  w.Key("device_owner");
  write_str(w, p.device_owner);
  w.Key("fixed_ips");
  w.StartArray();
  for (auto& ip : p.fixed_ips) {
    w.StartObject();
    w.Key("subnet_id");
    write_str(w, ip.subnet_id);
    w.Key("ip_address");
    write_str(w, ip.ip_address);
    w.EndObject();
  }
  w.EndArray();
  w.Key("allowed_address_pairs");
  w.StartArray();
  w.EndArray();
  w.Key("extra_dhcp_opts");
  w.StartArray();
  w.EndArray();
  w.Key("security_groups");
  write_strings(w, p.security_groups);
  w.Key("description");
  write_str(w, p.description);
  w.Key("binding:vnic_type");
  w.String("normal");
  w.Key("binding:profile");
  w.StartObject();
  w.EndObject();
  w.Key("binding:host_id");
  w.String(p.device_id.empty() ? "" : "sim-compute-1");
  w.Key("binding:vif_type");
  w.String(p.device_id.empty() ? "unbound" : "ovs");
  w.Key("binding:vif_details");
  w.StartObject();
  w.EndObject();
  w.Key("port_security_enabled");
  w.Bool(true);
  // Extension attributes of a default ML2 deployment (dns, qos, ip_allocation, uplink status).
  w.Key("dns_name");
  w.String("");
  w.Key("dns_domain");
  w.String("");
  w.Key("dns_assignment");
  w.StartArray();
  for (auto& ip : p.fixed_ips) {
    w.StartObject();
    w.Key("ip_address");
    write_str(w, ip.ip_address);
    w.Key("hostname");
    write_str(w, "host-" + ip.ip_address);
    w.Key("fqdn");
    write_str(w, "host-" + ip.ip_address + ".openstacklocal.");
    w.EndObject();
  }
  w.EndArray();
  w.Key("ip_allocation");
  w.String("immediate");
  w.Key("propagate_uplink_status");
  w.Bool(false);
  w.Key("qos_policy_id");
  w.Null();
  w.Key("qos_network_policy_id");
  w.Null();
  w.Key("data_plane_status");
  w.Null();
  w.Key("tags");
  write_strings(w, p.tags);
  w.Key("created_at");
  write_str(w, p.created);
  w.Key("updated_at");
  write_str(w, p.updated);
  w.Key("revision_number");
  w.Int(p.revision);
  w.Key("project_id");
  write_str(w, p.project_id);
  w.EndObject();
}

void write_router(json_writer& w, impl_state& st, const router& r) {
  w.StartObject();
  w.Key("admin_state_up");
  w.Bool(r.admin_state_up);
  w.Key("availability_zone_hints");
  w.StartArray();
  w.EndArray();
  w.Key("availability_zones");
  w.StartArray();
  w.String("nova");
  w.EndArray();
  w.Key("created_at");
  write_str(w, r.created);
  w.Key("description");
  write_str(w, r.description);
  w.Key("distributed");
  w.Bool(false);
  w.Key("external_gateway_info");
  if (r.gateway) {
    w.StartObject();
    w.Key("enable_snat");
    w.Bool(r.gateway->enable_snat);
    w.Key("external_fixed_ips");
    w.StartArray();
    if (auto p = st.ports.find(r.gateway->port_id); p != st.ports.end()) {
      for (auto& ip : p->second.fixed_ips) {
        w.StartObject();
        w.Key("ip_address");
        write_str(w, ip.ip_address);
        w.Key("subnet_id");
        write_str(w, ip.subnet_id);
        w.EndObject();
      }
    }
    w.EndArray();
    w.Key("network_id");
    write_str(w, r.gateway->network_id);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("flavor_id");
  w.Null();
  w.Key("ha");
  w.Bool(false);
  w.Key("id");
  write_str(w, r.id);
  w.Key("name");
  write_str(w, r.name);
  w.Key("routes");
  w.StartArray();
  w.EndArray();
  w.Key("revision_number");
  w.Int(r.revision);
  w.Key("status");
  w.String("ACTIVE");
  w.Key("updated_at");
  write_str(w, r.updated);
  w.Key("project_id");
  write_str(w, r.project_id);
  w.Key("tenant_id");
  write_str(w, r.project_id);
  w.Key("service_type_id");
  w.Null();
  w.Key("tags");
  write_strings(w, r.tags);
  w.Key("conntrack_helpers");
  w.StartArray();
  w.EndArray();
  w.EndObject();
}

// -- cross-service helpers ----------------------------------------------------------------

std::optional<std::string> impl_state::allocate_ip(subnet& sn, std::optional<std::string> wanted) {
  cidr net{sn.ip_version, sn.base, sn.prefix};
  if (wanted) {
    auto addr = parse_address(*wanted, sn.ip_version);
    auto off = addr ? offset_in(net, *addr) : std::nullopt;
    if (!off || sn.allocated.count(*off) || *off == 0 || *off > last_offset(net))
      return std::nullopt;
    sn.allocated.insert(*off);
    return address_at(sn.ip_version, sn.base, *off);
  }
  for (auto& pool : sn.pools) {
    // The lowest free address: skip the allocated run from the pool start.
    auto off = pool.first;
    for (auto i = sn.allocated.lower_bound(pool.first); i != sn.allocated.end() && *i == off; ++i)
      ++off;
    if (off <= pool.last && off >= pool.first) {
      sn.allocated.insert(off);
      return address_at(sn.ip_version, sn.base, off);
    }
  }
  return std::nullopt;
}

void impl_state::release_ips(const port& p) {
  for (auto& ip : p.fixed_ips) {
    auto sn = subnets.find(ip.subnet_id);
    if (sn == subnets.end()) continue;
    auto addr = parse_address(ip.ip_address, sn->second.ip_version);
    if (!addr) continue;
    if (auto off
        = offset_in(cidr{sn->second.ip_version, sn->second.base, sn->second.prefix}, *addr))
      sn->second.allocated.erase(*off);
  }
}

port& impl_state::create_port(const network& net, const std::string& project_id,
                              std::vector<fixed_ip> wanted, std::string device_owner,
                              std::string device_id, time_point now) {
  port p;
  p.id = new_uuid();
  p.network_id = net.id;
  p.project_id = project_id;
  p.mac_address = new_mac();
  p.device_owner = std::move(device_owner);
  p.device_id = std::move(device_id);
  p.fixed_ips = std::move(wanted);
  p.revision = 1;
  p.created = p.updated = iso_seconds(now);
  auto id = p.id;
  return ports[id] = std::move(p);
}

void impl_state::delete_port(const std::string& id) {
  auto i = ports.find(id);
  if (i == ports.end()) return;
  // Neutron disassociates floating IPs from a port that goes away.
  release_floating_ips_of(*this, id);
  release_ips(i->second);
  ports.erase(i);
}

/// Neutron's allocator as Nova uses it when booting: one port with an address per subnet.
std::optional<response> nova_allocate_port(impl_state& st, const network& net,
                                           std::vector<fixed_ip> wanted, std::string& port_id,
                                           const std::string& project_id,
                                           const std::string& server_id, time_point now) {
  if (auto err = allocate(st, net, wanted)) return *err;
  auto group = default_security_group(st, project_id, now).id;
  auto& p = st.create_port(net, project_id, {}, "compute:nova", server_id, now);
  p.fixed_ips = std::move(wanted);
  p.security_groups.push_back(group);
  port_id = p.id;
  return std::nullopt;
}

void add_neutron_routes(impl_state& st) {
  auto add = [&](std::string method, std::string pattern, route_fn fn, bool auth = true) {
    add_route(st, service_family::network, "network", std::move(method), "/networking" + pattern,
              std::move(fn), auth);
  };
  add(
    "GET", "",
    [](impl_state& s, call&) {
      return json_response(200, render([&](json_writer& w) {
                             w.StartObject();
                             w.Key("versions");
                             w.StartArray();
                             w.StartObject();
                             w.Key("id");
                             w.String("v2.0");
                             w.Key("status");
                             w.String("CURRENT");
                             w.Key("links");
                             w.StartArray();
                             w.StartObject();
                             w.Key("href");
                             write_str(w, s.cfg.base_url + "/networking/v2.0/");
                             w.Key("rel");
                             w.String("self");
                             w.EndObject();
                             w.EndArray();
                             w.EndObject();
                             w.EndArray();
                             w.EndObject();
                           }));
    },
    false);
  add("GET", "/v2.0", [](impl_state& s, call&) {
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("resources");
                           w.StartArray();
                           for (auto [name, collection] : {std::pair{"network", "networks"},
                                                           {"subnet", "subnets"},
                                                           {"port", "ports"},
                                                           {"router", "routers"}}) {
                             w.StartObject();
                             w.Key("name");
                             w.String(name);
                             w.Key("collection");
                             w.String(collection);
                             w.Key("links");
                             w.StartArray();
                             w.StartObject();
                             w.Key("href");
                             write_str(w, s.cfg.base_url + "/networking/v2.0/" + collection);
                             w.Key("rel");
                             w.String("self");
                             w.EndObject();
                             w.EndArray();
                             w.EndObject();
                           }
                           w.EndArray();
                           w.EndObject();
                         }));
  });
  add("GET", "/v2.0/extensions", [](impl_state&, call&) {
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("extensions");
                           w.StartArray();
                           for (auto alias : {"external-net",
                                              "router",
                                              "standard-attr-tag",
                                              "tag-ports-during-bulk-creation",
                                              "filter-validation",
                                              "standard-attr-description",
                                              "standard-attr-revisions",
                                              "standard-attr-timestamp",
                                              "network-mtu",
                                              "binding",
                                              "port-security",
                                              "quotas",
                                              "network_availability_zone",
                                              "router_availability_zone",
                                              "subnet-service-types",
                                              "security-group",
                                              "standard-attr-segment",
                                              "dns-integration",
                                              "fip-port-details",
                                              "ext-gw-mode",
                                              "allowed-address-pairs",
                                              "extra_dhcp_opt"}) {
                             w.StartObject();
                             w.Key("alias");
                             w.String(alias);
                             w.Key("name");
                             w.String(alias);
                             w.Key("description");
                             w.String("");
                             w.Key("links");
                             w.StartArray();
                             w.EndArray();
                             w.Key("updated");
                             w.String("2020-01-01T00:00:00-00:00");
                             w.EndObject();
                           }
                           w.EndArray();
                           w.EndObject();
                         }));
  });
  add("GET", "/v2.0/networks", list_networks);
  add("POST", "/v2.0/networks", create_network);
  add("GET", "/v2.0/networks/{id}", show_network);
  add("PUT", "/v2.0/networks/{id}", update_network);
  add("DELETE", "/v2.0/networks/{id}", delete_network);
  add("GET", "/v2.0/subnets", list_subnets);
  add("POST", "/v2.0/subnets", create_subnet);
  add("GET", "/v2.0/subnets/{id}", show_subnet);
  add("PUT", "/v2.0/subnets/{id}", update_subnet);
  add("DELETE", "/v2.0/subnets/{id}", delete_subnet);
  add("GET", "/v2.0/ports", list_ports);
  add("POST", "/v2.0/ports", create_port_call);
  add("GET", "/v2.0/ports/{id}", show_port);
  add("PUT", "/v2.0/ports/{id}", update_port);
  add("DELETE", "/v2.0/ports/{id}", delete_port_call);
  add("GET", "/v2.0/routers", list_routers);
  add("POST", "/v2.0/routers", create_router);
  add("GET", "/v2.0/routers/{id}", show_router);
  add("PUT", "/v2.0/routers/{id}", update_router);
  add("DELETE", "/v2.0/routers/{id}", delete_router);
  add("PUT", "/v2.0/routers/{id}/add_router_interface", add_interface);
  add("PUT", "/v2.0/routers/{id}/remove_router_interface", remove_interface);
  add("GET", "/v2.0/{resource}/{id}/tags", [](impl_state& s, call& c) {
    auto t = find_taggable(s, c.params[0], c.params[1]);
    if (!t) return tag_target_missing(c.params[0], c.params[1]);
    return tags_answer(*t->tags);
  });
  add("PUT", "/v2.0/{resource}/{id}/tags", [](impl_state& s, call& c) {
    auto t = find_taggable(s, c.params[0], c.params[1]);
    if (!t) return tag_target_missing(c.params[0], c.params[1]);
    auto doc = parse_body(c.req);
    if (!doc || !doc->HasMember("tags") || !(*doc)["tags"].IsArray())
      return neutron_bad_request("Invalid input for tags.");
    std::vector<std::string> tags;
    for (auto& v : (*doc)["tags"].GetArray()) {
      if (auto err = check_tag(str_of(v))) return *err;
      if (std::find(tags.begin(), tags.end(), str_of(v)) == tags.end())
        tags.emplace_back(str_of(v));
    }
    if (tags.size() > 50)
      return neutron_bad_request("Invalid input for operation: number of tags exceeds 50.");
    *t->tags = tags;
    ++*t->revision;
    return tags_answer(tags);
  });
  add("DELETE", "/v2.0/{resource}/{id}/tags", [](impl_state& s, call& c) {
    auto t = find_taggable(s, c.params[0], c.params[1]);
    if (!t) return tag_target_missing(c.params[0], c.params[1]);
    t->tags->clear();
    ++*t->revision;
    return empty_response(204);
  });
  add("GET", "/v2.0/{resource}/{id}/tags/{tag}", [](impl_state& s, call& c) {
    auto t = find_taggable(s, c.params[0], c.params[1]);
    if (!t) return tag_target_missing(c.params[0], c.params[1]);
    if (std::find(t->tags->begin(), t->tags->end(), c.params[2]) == t->tags->end())
      return neutron_error(404, "TagNotFound",
                           "Tag " + c.params[2] + " could not be found for resource " + c.params[1]
                             + ".");
    return empty_response(204);
  });
  add("PUT", "/v2.0/{resource}/{id}/tags/{tag}", [](impl_state& s, call& c) {
    auto t = find_taggable(s, c.params[0], c.params[1]);
    if (!t) return tag_target_missing(c.params[0], c.params[1]);
    if (auto err = check_tag(c.params[2])) return *err;
    if (std::find(t->tags->begin(), t->tags->end(), c.params[2]) == t->tags->end()) {
      if (t->tags->size() >= 50)
        return neutron_bad_request("Invalid input for operation: number of tags exceeds 50.");
      t->tags->push_back(c.params[2]);
      ++*t->revision;
    }
    return empty_response(201);
  });
  add("DELETE", "/v2.0/{resource}/{id}/tags/{tag}", [](impl_state& s, call& c) {
    auto t = find_taggable(s, c.params[0], c.params[1]);
    if (!t) return tag_target_missing(c.params[0], c.params[1]);
    auto i = std::find(t->tags->begin(), t->tags->end(), c.params[2]);
    if (i == t->tags->end())
      return neutron_error(404, "TagNotFound",
                           "Tag " + c.params[2] + " could not be found for resource " + c.params[1]
                             + ".");
    t->tags->erase(i);
    ++*t->revision;
    return empty_response(204);
  });
}

} // namespace orch::sim
