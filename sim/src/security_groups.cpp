// Neutron security groups and rules: the per-project `default` group, two egress rules in every
// new group, duplicate rules (409 SecurityGroupRuleExists) and groups in use (409).

#include <algorithm>

#include "service.hpp"

namespace orch::sim {

namespace {

response group_not_found(const std::string& id) {
  return neutron_error(404, "SecurityGroupNotFound", "Security group " + id + " does not exist");
}

/// A port number given as an integer or a numeric string (Neutron converts both).
std::optional<int> port_number(const rapidjson::Value& body, const char* key, bool& bad) {
  if (!body.HasMember(key) || body[key].IsNull()) return std::nullopt;
  auto& v = body[key];
  int n = -1;
  if (v.IsInt()) {
    n = v.GetInt();
  } else if (v.IsString()) {
    char* end = nullptr;
    n = static_cast<int>(std::strtol(v.GetString(), &end, 10));
    if (end == v.GetString() || *end != '\0') n = -1;
  }
  if (n < 0 || n > 65535) {
    bad = true;
    return std::nullopt;
  }
  return n;
}

/// Any CIDR, `0.0.0.0/0` included (subnet CIDRs are stricter, see parse_cidr).
bool valid_prefix(std::string_view text) {
  auto slash = text.find('/');
  auto version = text.find(':') == std::string_view::npos ? 4 : 6;
  if (!parse_address(text.substr(0, slash), version)) return false;
  if (slash == std::string_view::npos) return true;
  auto len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3) return false;
  int prefix = 0;
  for (char ch : len) {
    if (ch < '0' || ch > '9') return false;
    prefix = prefix * 10 + (ch - '0');
  }
  return prefix <= (version == 4 ? 32 : 128);
}

bool same_rule(const security_group_rule& x, const security_group_rule& y) {
  return x.security_group_id == y.security_group_id && x.direction == y.direction
         && x.ethertype == y.ethertype && x.protocol == y.protocol
         && x.port_range_min == y.port_range_min && x.port_range_max == y.port_range_max
         && x.remote_group_id == y.remote_group_id && x.remote_ip_prefix == y.remote_ip_prefix;
}

response create_group(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  if (!doc || !doc->HasMember("security_group") || !(*doc)["security_group"].IsObject())
    return neutron_bad_request("Resource body required");
  auto& body = (*doc)["security_group"];
  for (auto& m : body.GetObject()) {
    auto name = str_of(m.name);
    if (name != "name" && name != "description" && name != "stateful" && name != "project_id"
        && name != "tenant_id")
      return neutron_bad_request("Unrecognized attribute(s) '" + std::string{name} + "'");
  }
  auto name = opt_string(body, "name").value_or("");
  if (name == "default")
    return neutron_error(409, "SecurityGroupDefaultAlreadyExists",
                         "Default security group already exists.");
  default_security_group(st, c.auth->project_id, c.now);
  security_group g;
  g.id = st.new_uuid();
  g.name = name;
  g.description = opt_string(body, "description").value_or("");
  g.project_id = c.auth->project_id;
  if (body.HasMember("stateful") && body["stateful"].IsBool())
    g.stateful = body["stateful"].GetBool();
  g.revision = 1;
  g.created = g.updated = iso_seconds(c.now);
  auto& stored = st.security_groups[g.id] = g;
  add_rule(st, stored, "egress", "IPv4", std::nullopt, c.now);
  add_rule(st, stored, "egress", "IPv6", std::nullopt, c.now);
  return single(201, "security_group",
                [&](json_writer& w) { write_security_group(w, st, stored); });
}

response create_rule(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  if (!doc || !doc->HasMember("security_group_rule") || !(*doc)["security_group_rule"].IsObject())
    return neutron_bad_request("Resource body required");
  auto& body = (*doc)["security_group_rule"];
  auto group_id = opt_string(body, "security_group_id");
  if (!group_id)
    return neutron_bad_request(
      "Failed to parse request. Required attribute 'security_group_id' not "
      "specified");
  auto g = st.security_groups.find(*group_id);
  if (g == st.security_groups.end()) return group_not_found(*group_id);
  security_group_rule r;
  r.security_group_id = *group_id;
  r.project_id = g->second.project_id;
  r.direction = opt_string(body, "direction").value_or("");
  if (r.direction != "ingress" && r.direction != "egress")
    return neutron_bad_request("Invalid input for direction. Reason: '" + r.direction
                               + "' is not in ['ingress', 'egress'].");
  r.ethertype = opt_string(body, "ethertype").value_or("IPv4");
  if (r.ethertype != "IPv4" && r.ethertype != "IPv6")
    return neutron_bad_request("Invalid input for ethertype. Reason: '" + r.ethertype
                               + "' is not in ['IPv4', 'IPv6'].");
  r.protocol = opt_string(body, "protocol");
  bool bad_port = false;
  r.port_range_min = port_number(body, "port_range_min", bad_port);
  r.port_range_max = port_number(body, "port_range_max", bad_port);
  if (bad_port)
    return neutron_bad_request("Invalid value for port range: ports must be integers 0-65535.");
  if (r.port_range_min && r.port_range_max && *r.port_range_min > *r.port_range_max)
    return neutron_error(400, "SecurityGroupInvalidPortRange",
                         "For TCP/UDP protocols, port_range_min must be <= port_range_max");
  r.remote_group_id = opt_string(body, "remote_group_id");
  r.remote_ip_prefix = opt_string(body, "remote_ip_prefix");
  int remotes = r.remote_group_id.has_value() + r.remote_ip_prefix.has_value()
                + static_cast<int>(body.HasMember("remote_address_group_id")
                                   && !body["remote_address_group_id"].IsNull());
  if (remotes > 1)
    return neutron_error(400, "SecurityGroupRemoteGroupAndRemoteIpPrefix",
                         "Only one of remote_ip_prefix, remote_group_id or "
                         "remote_address_group_id may be provided.");
  if (r.remote_group_id && !st.security_groups.count(*r.remote_group_id))
    return group_not_found(*r.remote_group_id);
  if (r.remote_ip_prefix && !valid_prefix(*r.remote_ip_prefix))
    return neutron_bad_request("Invalid input for remote_ip_prefix. Reason: '" + *r.remote_ip_prefix
                               + "' is not a valid IP subnet.");
  r.description = opt_string(body, "description").value_or("");
  for (auto& [id, other] : st.security_group_rules)
    if (same_rule(other, r))
      return neutron_error(409, "SecurityGroupRuleExists",
                           "Security group rule already exists. Rule id is " + id + ".");
  r.id = st.new_uuid();
  r.revision = 0;
  r.created = iso_seconds(c.now);
  auto& stored = st.security_group_rules[r.id] = r;
  return single(201, "security_group_rule",
                [&](json_writer& w) { write_security_group_rule(w, stored); });
}

} // namespace

security_group& default_security_group(impl_state& st, const std::string& project_id,
                                       time_point now) {
  for (auto& [id, g] : st.security_groups)
    if (g.project_id == project_id && g.name == "default") return g;
  security_group g;
  g.id = st.new_uuid();
  g.name = "default";
  g.description = "Default security group";
  g.project_id = project_id;
  g.revision = 1;
  g.created = g.updated = iso_seconds(now);
  auto& stored = st.security_groups[g.id] = g;
  add_rule(st, stored, "ingress", "IPv4", stored.id, now);
  add_rule(st, stored, "ingress", "IPv6", stored.id, now);
  add_rule(st, stored, "egress", "IPv4", std::nullopt, now);
  add_rule(st, stored, "egress", "IPv6", std::nullopt, now);
  return stored;
}

security_group_rule& add_rule(impl_state& st, const security_group& group, std::string direction,
                              std::string ethertype, std::optional<std::string> remote_group,
                              time_point now) {
  security_group_rule r;
  r.id = st.new_uuid();
  r.security_group_id = group.id;
  r.project_id = group.project_id;
  r.direction = std::move(direction);
  r.ethertype = std::move(ethertype);
  r.remote_group_id = std::move(remote_group);
  r.created = iso_seconds(now);
  return st.security_group_rules[r.id] = r;
}

void write_security_group_rule(json_writer& w, const security_group_rule& r) {
  auto opt_int = [&](const std::optional<int>& v) {
    if (v)
      w.Int(*v);
    else
      w.Null();
  };
  w.StartObject();
  w.Key("direction");
  write_str(w, r.direction);
  w.Key("ethertype");
  write_str(w, r.ethertype);
  w.Key("id");
  write_str(w, r.id);
  w.Key("port_range_max");
  opt_int(r.port_range_max);
  w.Key("port_range_min");
  opt_int(r.port_range_min);
  w.Key("protocol");
  write_opt(w, r.protocol);
  w.Key("remote_group_id");
  write_opt(w, r.remote_group_id);
  w.Key("remote_ip_prefix");
  write_opt(w, r.remote_ip_prefix);
  w.Key("remote_address_group_id");
  w.Null();
  w.Key("security_group_id");
  write_str(w, r.security_group_id);
  w.Key("project_id");
  write_str(w, r.project_id);
  w.Key("created_at");
  write_str(w, r.created);
  w.Key("updated_at");
  write_str(w, r.created);
  w.Key("revision_number");
  w.Int(r.revision);
  w.Key("tags");
  w.StartArray();
  w.EndArray();
  w.Key("tenant_id");
  write_str(w, r.project_id);
  w.Key("description");
  write_str(w, r.description);
  w.EndObject();
}

void write_security_group(json_writer& w, const impl_state& st, const security_group& g) {
  w.StartObject();
  w.Key("description");
  write_str(w, g.description);
  w.Key("id");
  write_str(w, g.id);
  w.Key("name");
  write_str(w, g.name);
  w.Key("security_group_rules");
  w.StartArray();
  for (auto& [id, r] : st.security_group_rules)
    if (r.security_group_id == g.id) write_security_group_rule(w, r);
  w.EndArray();
  w.Key("project_id");
  write_str(w, g.project_id);
  w.Key("created_at");
  write_str(w, g.created);
  w.Key("updated_at");
  write_str(w, g.updated);
  w.Key("revision_number");
  w.Int(g.revision);
  w.Key("tags");
  write_strings(w, g.tags);
  w.Key("tenant_id");
  write_str(w, g.project_id);
  w.Key("stateful");
  w.Bool(g.stateful);
  w.Key("shared");
  w.Bool(false);
  w.EndObject();
}

void add_security_group_routes(impl_state& table) {
  auto add = [&](std::string method, std::string pattern, route_fn fn) {
    add_route(table, service_family::network, "network", std::move(method),
              "/networking/v2.0" + pattern, std::move(fn), true);
  };
  add("GET", "/security-groups", [](impl_state& st, call& c) {
    default_security_group(st, c.auth->project_id, c.now);
    std::vector<std::string> objects;
    for (auto& [id, g] : st.security_groups)
      objects.push_back(render([&](json_writer& w) { write_security_group(w, st, g); }));
    return neutron_list(st, c, "security_groups", objects);
  });
  add("POST", "/security-groups", create_group);
  add("GET", "/security-groups/{id}", [](impl_state& st, call& c) {
    auto g = st.security_groups.find(c.params[0]);
    if (g == st.security_groups.end()) return group_not_found(c.params[0]);
    return single(200, "security_group",
                  [&](json_writer& w) { write_security_group(w, st, g->second); });
  });
  add("PUT", "/security-groups/{id}", [](impl_state& st, call& c) {
    auto g = st.security_groups.find(c.params[0]);
    if (g == st.security_groups.end()) return group_not_found(c.params[0]);
    auto doc = parse_body(c.req);
    if (!doc || !doc->HasMember("security_group") || !(*doc)["security_group"].IsObject())
      return neutron_bad_request("Resource body required");
    auto& body = (*doc)["security_group"];
    if (auto name = opt_string(body, "name")) {
      if (g->second.name == "default" && *name != "default")
        return neutron_error(409, "SecurityGroupCannotUpdateDefault",
                             "Updating default security group not allowed.");
      g->second.name = *name;
    }
    if (auto d = opt_string(body, "description")) g->second.description = *d;
    ++g->second.revision;
    g->second.updated = iso_seconds(c.now);
    return single(200, "security_group",
                  [&](json_writer& w) { write_security_group(w, st, g->second); });
  });
  add("DELETE", "/security-groups/{id}", [](impl_state& st, call& c) {
    auto g = st.security_groups.find(c.params[0]);
    if (g == st.security_groups.end()) return group_not_found(c.params[0]);
    if (g->second.name == "default")
      return neutron_error(409, "SecurityGroupCannotRemoveDefault",
                           "Insufficient rights for removing default security group.");
    for (auto& [id, p] : st.ports)
      if (std::find(p.security_groups.begin(), p.security_groups.end(), g->first)
          != p.security_groups.end())
        return neutron_error(409, "SecurityGroupInUse", "Security Group " + g->first + " in use.");
    std::erase_if(st.security_group_rules,
                  [&](auto& kv) { return kv.second.security_group_id == g->first; });
    st.security_groups.erase(g);
    return empty_response(204);
  });
  add("GET", "/security-group-rules", [](impl_state& st, call& c) {
    std::vector<std::string> objects;
    for (auto& [id, r] : st.security_group_rules)
      objects.push_back(render([&](json_writer& w) { write_security_group_rule(w, r); }));
    return neutron_list(st, c, "security_group_rules", objects);
  });
  add("POST", "/security-group-rules", create_rule);
  add("GET", "/security-group-rules/{id}", [](impl_state& st, call& c) {
    auto r = st.security_group_rules.find(c.params[0]);
    if (r == st.security_group_rules.end())
      return neutron_error(404, "SecurityGroupRuleNotFound",
                           "Security group rule " + c.params[0] + " does not exist");
    return single(200, "security_group_rule",
                  [&](json_writer& w) { write_security_group_rule(w, r->second); });
  });
  add("DELETE", "/security-group-rules/{id}", [](impl_state& st, call& c) {
    if (st.security_group_rules.erase(c.params[0]) == 0)
      return neutron_error(404, "SecurityGroupRuleNotFound",
                           "Security group rule " + c.params[0] + " does not exist");
    return empty_response(204);
  });
}

} // namespace orch::sim
