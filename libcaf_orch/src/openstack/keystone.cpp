#include "orch/openstack/keystone.hpp"

#include <algorithm>
#include <cctype>

#include "json.hpp"

namespace orch::openstack {

namespace {

using namespace detail;

os_error invalid_credentials(std::string what) {
  return os_error{
    os_error_kind::bad_request, 0, "invalid_credentials", std::move(what), std::nullopt, {}};
}

/// `{"id": ...}` or `{"name": ..., "domain": {...}}` for a user or project.
void write_domain(json_writer& w, const std::string& id, const std::string& name) {
  w.Key("domain");
  w.StartObject();
  if (!id.empty())
    write_member(w, "id", id);
  else
    write_member(w, "name", name);
  w.EndObject();
}

} // namespace

std::string token_url(std::string_view auth_url) {
  std::string base{auth_url};
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.size() < 3 || base.compare(base.size() - 3, 3, "/v3") != 0) base += "/v3";
  return base + "/auth/tokens";
}

result<std::string> build_password_auth_body(const password_credentials& creds) {
  if (creds.password.empty()) return invalid_credentials("the password is empty");
  if (creds.user_id.empty() && creds.username.empty())
    return invalid_credentials("neither a user id nor a user name is set");
  if (creds.user_id.empty() && creds.user_domain_id.empty() && creds.user_domain_name.empty())
    return invalid_credentials("a user name needs a user domain (id or name)");
  if (creds.project_id.empty() && creds.project_name.empty())
    return invalid_credentials("neither a project id nor a project name is set");
  if (creds.project_id.empty() && creds.project_domain_id.empty()
      && creds.project_domain_name.empty())
    return invalid_credentials("a project name needs a project domain (id or name)");
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("auth");
  w.StartObject();
  w.Key("identity");
  w.StartObject();
  w.Key("methods");
  w.StartArray();
  w.String("password");
  w.EndArray();
  w.Key("password");
  w.StartObject();
  w.Key("user");
  w.StartObject();
  if (!creds.user_id.empty()) {
    write_member(w, "id", creds.user_id);
  } else {
    write_member(w, "name", creds.username);
    write_domain(w, creds.user_domain_id, creds.user_domain_name);
  }
  write_member(w, "password", creds.password);
  w.EndObject(); // user
  w.EndObject(); // password
  w.EndObject(); // identity
  w.Key("scope");
  w.StartObject();
  w.Key("project");
  w.StartObject();
  if (!creds.project_id.empty()) {
    write_member(w, "id", creds.project_id);
  } else {
    write_member(w, "name", creds.project_name);
    write_domain(w, creds.project_domain_id, creds.project_domain_name);
  }
  w.EndObject(); // project
  w.EndObject(); // scope
  w.EndObject(); // auth
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

result<std::string> build_application_credential_auth_body(const password_credentials& creds) {
  if (creds.application_credential_id.empty())
    return invalid_credentials("the application credential id is empty");
  if (creds.application_credential_secret.empty())
    return invalid_credentials("the application credential secret is empty");
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("auth");
  w.StartObject();
  w.Key("identity");
  w.StartObject();
  w.Key("methods");
  w.StartArray();
  w.String("application_credential");
  w.EndArray();
  w.Key("application_credential");
  w.StartObject();
  write_member(w, "id", creds.application_credential_id);
  write_member(w, "secret", creds.application_credential_secret);
  w.EndObject(); // application_credential
  w.EndObject(); // identity
  w.EndObject(); // auth
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

result<std::string> build_auth_body(const password_credentials& creds) {
  if (!creds.application_credential_id.empty())
    return build_application_credential_auth_body(creds);
  return build_password_auth_body(creds);
}

result<auth_token> parse_token_response(const http_headers& headers, std::string_view body) {
  auto subject = find_header(headers, "X-Subject-Token");
  if (!subject || subject->empty())
    return os_error{os_error_kind::malformed_response,
                    0,
                    "missing_subject_token",
                    "the token response has no X-Subject-Token header",
                    std::nullopt,
                    {}};
  return guarded<auth_token>(body, [&](const json_value& root) {
    auth_token result;
    result.id = std::string{*subject};
    const auto& token = require_object(root, "token", "");
    auto expires = optional_time(token, "expires_at", "token");
    if (!expires) throw shape_error{"token.expires_at", "missing"};
    result.expires_at = *expires;
    // Without issued_at the lifetime cannot be measured skew-free; assume the default hour.
    result.issued_at = optional_time(token, "issued_at", "token")
                         .value_or(result.expires_at - std::chrono::hours{1});
    if (auto* project = find(token, "project"))
      result.project_id = optional_string(*project, "id", "token.project");
    if (find(token, "catalog") != nullptr) {
      for_each_item(token, "catalog", "token", [&](const json_value& item, const std::string& p) {
        catalog_entry entry;
        entry.type = require_string(item, "type", p);
        entry.name = optional_string(item, "name", p);
        if (find(item, "endpoints") != nullptr)
          for_each_item(item, "endpoints", p, [&](const json_value& ep, const std::string& q) {
            catalog_endpoint endpoint;
            endpoint.interface = require_string(ep, "interface", q);
            endpoint.region = optional_string(ep, "region_id", q);
            if (endpoint.region.empty()) endpoint.region = optional_string(ep, "region", q);
            endpoint.url = require_string(ep, "url", q);
            entry.endpoints.push_back(std::move(endpoint));
          });
        result.catalog.push_back(std::move(entry));
      });
    }
    return result;
  });
}

std::vector<std::string_view> catalog_types(service svc) {
  switch (svc) {
    case service::identity: return {"identity"};
    case service::compute: return {"compute"};
    case service::network: return {"network"};
    case service::block_storage: return {"block-storage", "volumev3", "volume"};
    case service::image: return {"image"};
  }
  return {};
}

result<std::string> select_endpoint(const std::vector<catalog_entry>& catalog, service svc,
                                    std::string_view region, std::string_view interface) {
  auto types = catalog_types(svc);
  for (auto type : types) {
    for (const auto& entry : catalog) {
      if (entry.type != type) continue;
      for (const auto& endpoint : entry.endpoints) {
        if (endpoint.interface == interface && endpoint.region == region) {
          auto url = endpoint.url;
          while (!url.empty() && url.back() == '/') url.pop_back();
          return url;
        }
      }
    }
  }
  return os_error{os_error_kind::endpoint_refused,
                  0,
                  "no_endpoint",
                  "the catalog has no " + std::string{types.empty() ? "?" : types.front()}
                    + " endpoint for region " + std::string{region} + " and interface "
                    + std::string{interface},
                  std::nullopt,
                  {}};
}

endpoint_allowlist::endpoint_allowlist(std::vector<std::string> entries,
                                       std::string_view auth_url) {
  for (const auto& entry : entries) {
    if (entry.empty()) continue;
    rule r;
    if (entry.find("://") != std::string::npos) {
      auto url = parse_url(entry);
      if (!url) continue; // an unparsable entry allows nothing
      r.scheme = url->scheme;
      r.host = url->host;
      r.port = url->port;
      r.path = url->path;
      while (!r.path.empty() && r.path.back() == '/') r.path.pop_back();
    } else {
      // host[:port], parsed by the same code as URLs.
      auto url = parse_url("http://" + entry);
      if (!url || url->path != "/" || !url->query.empty()) continue;
      r.host = url->host;
      auto has_port = entry.front() == '[' ? entry.find("]:") != std::string::npos
                                           : entry.find(':') != std::string::npos;
      r.port = has_port ? url->port : 0;
    }
    rules_.push_back(std::move(r));
  }
  if (entries.empty() || std::all_of(entries.begin(), entries.end(), [](const std::string& x) {
        return x.empty();
      })) {
    if (auto url = parse_url(auth_url)) {
      rule r;
      r.host = url->host;
      rules_.push_back(std::move(r));
    }
  }
}

endpoint_allowlist endpoint_allowlist::parse(std::string_view list, std::string_view auth_url) {
  std::vector<std::string> entries;
  std::string current;
  for (char c : list) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      if (!current.empty()) entries.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) entries.push_back(std::move(current));
  return endpoint_allowlist{std::move(entries), auth_url};
}

bool endpoint_allowlist::allows(std::string_view url) const {
  auto target = parse_url(url);
  if (!target) return false;
  for (const auto& r : rules_) {
    if (!r.scheme.empty() && r.scheme != target->scheme) continue;
    if (r.host != target->host) continue;
    if (r.port != 0 && r.port != target->port) continue;
    if (!r.path.empty()) {
      const auto& path = target->path;
      if (path.compare(0, r.path.size(), r.path) != 0) continue;
      // Segment boundary: `/compute` admits `/compute/v2.1`, not `/computer`.
      if (path.size() > r.path.size() && path[r.path.size()] != '/') continue;
    }
    return true;
  }
  return false;
}

std::chrono::steady_clock::time_point
token_refresh_at(const auth_token& token, std::chrono::steady_clock::time_point received_at,
                 std::chrono::milliseconds margin) {
  auto lifetime
    = std::chrono::duration_cast<std::chrono::milliseconds>(token.expires_at - token.issued_at);
  if (lifetime.count() <= 0) return received_at;
  // `expires_at` comes from the cloud: a token "valid" for centuries would overflow
  // steady_clock's nanoseconds. Renewing within a year is early enough for any real token.
  lifetime = std::min<std::chrono::milliseconds>(lifetime, std::chrono::hours{24 * 365});
  auto effective_margin = std::min(margin, lifetime / 2);
  return received_at + (lifetime - effective_margin);
}

} // namespace orch::openstack
