// Keystone v3: password authentication scoped to a project, application credentials, token
// validation and revocation, and the service catalog that points every service back at the
// simulator.

#include <cstdio>

#include "service.hpp"

namespace orch::sim {

namespace {

/// A stable 32-hex id derived from `text`, so catalog and role ids do not change across resets.
std::string stable_id(std::string_view text) {
  uint64_t h1 = 14695981039346656037ULL;
  uint64_t h2 = 1099511628211ULL * 31;
  for (unsigned char ch : text) {
    h1 = (h1 ^ ch) * 1099511628211ULL;
    h2 = (h2 ^ ch) * 14029467366897019727ULL;
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(h1),
                static_cast<unsigned long long>(h2));
  return buf;
}

const user* find_user(impl_state& st, const rapidjson::Value& spec, std::string& error) {
  if (!spec.IsObject()) {
    error = "Expecting to find user in identity.password.";
    return nullptr;
  }
  if (spec.HasMember("id") && spec["id"].IsString()) {
    auto i = st.users.find(spec["id"].GetString());
    return i == st.users.end() ? nullptr : &i->second;
  }
  if (!spec.HasMember("name") || !spec["name"].IsString()) {
    error = "Expecting to find id or name in user.";
    return nullptr;
  }
  if (!spec.HasMember("domain") || !spec["domain"].IsObject()) {
    error = "Expecting to find domain in user.";
    return nullptr;
  }
  auto& dom = spec["domain"];
  auto name = str_of(spec["name"]);
  for (auto& [id, u] : st.users) {
    if (u.name != name) continue;
    if ((dom.HasMember("id") && str_of(dom["id"]) == u.domain.id)
        || (dom.HasMember("name") && str_of(dom["name"]) == u.domain.name))
      return &u;
  }
  return nullptr;
}

const project* find_scope(impl_state& st, const rapidjson::Value& spec, std::string& error) {
  if (spec.HasMember("id") && spec["id"].IsString()) return st.find_project(str_of(spec["id"]));
  if (!spec.HasMember("name") || !spec["name"].IsString()) {
    error = "Expecting to find id or name in project.";
    return nullptr;
  }
  if (!spec.HasMember("domain") || !spec["domain"].IsObject()) {
    error = "Expecting to find domain in project.";
    return nullptr;
  }
  auto& dom = spec["domain"];
  auto name = str_of(spec["name"]);
  for (auto& [id, p] : st.projects) {
    if (p.name != name) continue;
    if ((dom.HasMember("id") && str_of(dom["id"]) == p.domain.id)
        || (dom.HasMember("name") && str_of(dom["name"]) == p.domain.name))
      return &p;
  }
  return nullptr;
}

void write_domain(json_writer& w, const domain_ref& d) {
  w.StartObject();
  w.Key("id");
  write_str(w, d.id);
  w.Key("name");
  write_str(w, d.name);
  w.EndObject();
}

std::string token_body(impl_state& st, const token& t, bool catalog) {
  auto& u = st.users.at(t.user_id);
  auto& p = st.projects.at(t.project_id);
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("token");
  w.StartObject();
  w.Key("methods");
  w.StartArray();
  w.String("password");
  w.EndArray();
  w.Key("user");
  w.StartObject();
  w.Key("domain");
  write_domain(w, u.domain);
  w.Key("id");
  write_str(w, u.id);
  w.Key("name");
  write_str(w, u.name);
  w.Key("password_expires_at");
  w.Null();
  w.EndObject();
  w.Key("audit_ids");
  w.StartArray();
  write_str(w, t.audit_id);
  w.EndArray();
  w.Key("expires_at");
  write_str(w, iso_micros(t.expires));
  w.Key("issued_at");
  write_str(w, iso_micros(t.issued));
  w.Key("project");
  w.StartObject();
  w.Key("domain");
  write_domain(w, p.domain);
  w.Key("id");
  write_str(w, p.id);
  w.Key("name");
  write_str(w, p.name);
  w.EndObject();
  w.Key("is_domain");
  w.Bool(false);
  w.Key("roles");
  w.StartArray();
  for (auto name : {"reader", "member", "admin"}) {
    w.StartObject();
    w.Key("id");
    write_str(w, stable_id(std::string{"role:"} + name));
    w.Key("name");
    w.String(name);
    w.EndObject();
  }
  w.EndArray();
  if (catalog) {
    w.Key("catalog");
    write_catalog(w, st, p.id);
  }
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

// A new token for the user, scoped to the project: the 201 of `POST /v3/auth/tokens`.
response new_token(impl_state& st, call& c, const std::string& user_id,
                   const std::string& project_id) {
  token t;
  t.id = st.new_token_id();
  t.user_id = user_id;
  t.project_id = project_id;
  t.audit_id = st.new_token_id().substr(6, 22);
  t.issued = c.now;
  t.expires = c.now + st.cfg.token_ttl;
  auto& stored = st.tokens[t.id] = t;
  auto res = json_response(201, token_body(st, stored, !c.arg("nocatalog")));
  res.headers.emplace_back("X-Subject-Token", stored.id);
  return res;
}

response issue_token(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  auto bad = [](std::string_view msg) { return keystone_error(400, msg); };
  auto denied = [&] {
    auto res = keystone_error(401, "The request you have made requires authentication.");
    res.headers.emplace_back("WWW-Authenticate",
                             "Keystone uri=\"" + st.cfg.base_url + "/identity\"");
    return res;
  };
  auto grant = [&](const std::string& user_id, const std::string& project_id) {
    return new_token(st, c, user_id, project_id);
  };
  if (!doc || !doc->HasMember("auth") || !(*doc)["auth"].IsObject())
    return bad("Expecting to find auth in request body.");
  auto& auth = (*doc)["auth"];
  if (!auth.HasMember("identity") || !auth["identity"].IsObject())
    return bad("Expecting to find identity in auth.");
  auto& identity = auth["identity"];
  bool has_password = false;
  bool has_app_credential = false;
  if (identity.HasMember("methods") && identity["methods"].IsArray())
    for (auto& m : identity["methods"].GetArray()) {
      has_password = has_password || str_of(m) == "password";
      has_app_credential = has_app_credential || str_of(m) == "application_credential";
    }
  if (has_app_credential) {
    // Every account doubles as an application credential: its id is the user's id or name,
    // its secret the user's password, and it is bound to the user's project, as in Keystone
    // (which refuses an explicit scope with an application credential).
    if (!identity.HasMember("application_credential")
        || !identity["application_credential"].IsObject())
      return bad("Expecting to find application_credential in identity.");
    auto& cred = identity["application_credential"];
    if (!cred.HasMember("id") || !cred["id"].IsString())
      return bad("Expecting to find id in application_credential.");
    if (auth.HasMember("scope")) return bad("Application credentials cannot request a scope.");
    auto cred_id = str_of(cred["id"]);
    const user* owner = nullptr;
    for (auto& [id, u] : st.users)
      if (id == cred_id || u.name == cred_id) owner = &u;
    if (owner == nullptr || !cred.HasMember("secret") || str_of(cred["secret"]) != owner->password)
      return denied();
    return grant(owner->id, owner->project_id);
  }
  if (!has_password) return denied();
  if (!identity.HasMember("password") || !identity["password"].IsObject()
      || !identity["password"].HasMember("user"))
    return bad("Expecting to find user in password.");
  auto& user_spec = identity["password"]["user"];
  std::string error;
  auto u = find_user(st, user_spec, error);
  if (!error.empty()) return bad(error);
  if (u == nullptr || !user_spec.HasMember("password")
      || str_of(user_spec["password"]) != u->password)
    return denied();
  const project* p = nullptr;
  if (auth.HasMember("scope") && auth["scope"].IsObject()) {
    auto& scope = auth["scope"];
    if (!scope.HasMember("project") || !scope["project"].IsObject())
      return bad("Only project scope is supported.");
    p = find_scope(st, scope["project"], error);
    if (!error.empty()) return bad(error);
    // Keystone gives no role on a foreign project: the same generic 401.
    if (p == nullptr || p->id != u->project_id) return denied();
  } else {
    p = st.find_project(u->project_id);
  }
  return grant(u->id, p->id);
}

const token* subject(impl_state& st, call& c) {
  auto id = c.req.header("X-Subject-Token");
  auto i = st.tokens.find(std::string{id});
  if (id.empty() || i == st.tokens.end() || i->second.expires <= c.now) return nullptr;
  return &i->second;
}

response validate_token(impl_state& st, call& c) {
  auto t = subject(st, c);
  if (t == nullptr) return keystone_error(404, "Failed to validate token");
  auto res = json_response(200, token_body(st, *t, !c.arg("nocatalog")));
  res.headers.emplace_back("X-Subject-Token", t->id);
  if (c.req.method == "HEAD") res.body.clear();
  return res;
}

response revoke_token(impl_state& st, call& c) {
  auto t = subject(st, c);
  if (t == nullptr) return keystone_error(404, "Failed to validate token");
  auto id = t->id;
  st.tokens.erase(id);
  return empty_response(204);
}

void write_v3_version(json_writer& w, impl_state& st) {
  w.StartObject();
  w.Key("id");
  w.String("v3.14");
  w.Key("status");
  w.String("stable");
  w.Key("updated");
  w.String("2020-04-07T00:00:00Z");
  w.Key("links");
  w.StartArray();
  w.StartObject();
  w.Key("rel");
  w.String("self");
  w.Key("href");
  write_str(w, st.cfg.base_url + "/identity/v3/");
  w.EndObject();
  w.EndArray();
  w.Key("media-types");
  w.StartArray();
  w.StartObject();
  w.Key("base");
  w.String("application/json");
  w.Key("type");
  w.String("application/vnd.openstack.identity-v3+json");
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

} // namespace

void write_catalog(json_writer& w, impl_state& st, const std::string& project_id) {
  struct entry {
    const char* type;
    const char* name;
    std::string path;
  };
  auto base = st.cfg.base_url;
  std::vector<entry> entries{
    {"identity", "keystone", "/identity"},
    {"compute", "nova", "/compute/v2.1"},
    {"network", "neutron", "/networking"},
    {"volumev3", "cinderv3", "/volume/v3/" + project_id},
    {"block-storage", "cinder", "/volume/v3/" + project_id},
    {"image", "glance", "/image"},
  };
  w.StartArray();
  for (auto& e : entries) {
    w.StartObject();
    w.Key("endpoints");
    w.StartArray();
    for (auto region : {"RegionOne", "RegionTwo"}) {
      for (auto iface : {"admin", "internal", "public"}) {
        auto path = e.path;
        // The second region shows the other observed compute URL shape (with the project).
        if (std::string_view{e.type} == "compute" && std::string_view{region} == "RegionTwo")
          path += "/" + project_id;
        w.StartObject();
        w.Key("id");
        write_str(w, stable_id(std::string{e.type} + region + iface));
        w.Key("interface");
        w.String(iface);
        w.Key("region_id");
        w.String(region);
        w.Key("url");
        write_str(w, base + path);
        w.Key("region");
        w.String(region);
        w.EndObject();
      }
    }
    w.EndArray();
    w.Key("id");
    write_str(w, stable_id(e.type));
    w.Key("type");
    w.String(e.type);
    w.Key("name");
    w.String(e.name);
    w.EndObject();
  }
  w.EndArray();
}

void add_keystone_routes(impl_state& st) {
  auto add = [&](std::string method, std::string pattern, route_fn fn, bool auth = true) {
    add_route(st, service_family::identity, "identity", std::move(method), std::move(pattern),
              std::move(fn), auth);
  };
  add(
    "GET", "/identity",
    [](impl_state& s, call&) {
      rapidjson::StringBuffer buf;
      json_writer w{buf};
      w.StartObject();
      w.Key("versions");
      w.StartObject();
      w.Key("values");
      w.StartArray();
      write_v3_version(w, s);
      w.EndArray();
      w.EndObject();
      w.EndObject();
      return json_response(300, buf.GetString());
    },
    false);
  add(
    "GET", "/identity/v3",
    [](impl_state& s, call&) {
      rapidjson::StringBuffer buf;
      json_writer w{buf};
      w.StartObject();
      w.Key("version");
      write_v3_version(w, s);
      w.EndObject();
      return json_response(200, buf.GetString());
    },
    false);
  add("POST", "/identity/v3/auth/tokens", issue_token, false);
  add("GET", "/identity/v3/auth/tokens", validate_token);
  add("HEAD", "/identity/v3/auth/tokens", validate_token);
  add("DELETE", "/identity/v3/auth/tokens", revoke_token);
}

} // namespace orch::sim
