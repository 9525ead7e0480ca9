#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "orch/openstack/errors.hpp"
#include "orch/openstack/http_transport.hpp"
#include "orch/openstack/url.hpp"
#include "orch/time.hpp"

namespace orch::openstack {

/// Keystone v3 credentials, scoped to one project. The user is named by `user_id`,
/// or by `username` plus a domain (`user_domain_id` or `user_domain_name`); the project by
/// `project_id`, or by `project_name` plus a domain. With `application_credential_id` set, the
/// `application_credential` method is used instead: the credential is bound to its project, so
/// user, password and project are then ignored.
struct password_credentials {
  /// Identity endpoint, e.g. `https://cloud.example:5000/v3` (`/v3` is appended if missing).
  std::string auth_url;
  std::string user_id;
  std::string username;
  std::string user_domain_id;
  std::string user_domain_name;
  /// Secret: never logged, never copied into an error.
  std::string password;
  std::string project_id;
  std::string project_name;
  std::string project_domain_id;
  std::string project_domain_name;
  /// Id of a Keystone application credential; empty for password authentication.
  std::string application_credential_id;
  /// Secret of the application credential: never logged, never copied into an error.
  std::string application_credential_secret;
};

/// The URL of `POST /v3/auth/tokens` for `auth_url`.
std::string token_url(std::string_view auth_url);

/// Builds the body of `POST /v3/auth/tokens`; `bad_request` naming the missing field (never
/// a value) if the user or project is not fully identified.
result<std::string> build_password_auth_body(const password_credentials& creds);

/// Builds the body of `POST /v3/auth/tokens` for the `application_credential` method (no
/// scope: the credential carries its project); `bad_request` if the id or secret is empty.
result<std::string> build_application_credential_auth_body(const password_credentials& creds);

/// The body for the method `creds` calls for: application credential if its id is set, else
/// password.
result<std::string> build_auth_body(const password_credentials& creds);

/// One endpoint of a catalog entry.
struct catalog_endpoint {
  /// `public`, `internal` or `admin`.
  std::string interface;
  /// `region_id`, or the legacy `region` when that is missing.
  std::string region;
  std::string url;
};

/// One service of the catalog.
struct catalog_entry {
  std::string type;
  std::string name;
  std::vector<catalog_endpoint> endpoints;
};

/// A project-scoped token. `id` is a secret.
struct auth_token {
  std::string id;
  timestamp issued_at{};
  timestamp expires_at{};
  std::string project_id;
  std::vector<catalog_entry> catalog;
};

/// Parses the answer of `POST /v3/auth/tokens`: the id from `X-Subject-Token`, the rest from
/// the body. `malformed_response` if either is missing or malformed.
result<auth_token> parse_token_response(const http_headers& headers, std::string_view body);

/// The catalog types tried, in order, for `svc` (block storage: `block-storage`,
/// `volumev3`, `volume`).
std::vector<std::string_view> catalog_types(service svc);

/// Finds the URL of `svc` for `region` and `interface` (by type, never by name), trailing
/// slashes removed. `endpoint_refused` naming type, region and interface when none matches.
/// With several matches the first wins.
result<std::string> select_endpoint(const std::vector<catalog_entry>& catalog, service svc,
                                    std::string_view region, std::string_view interface);

/// The SSRF guard: which catalog URLs the client may call.
///
/// An entry is a URL prefix (`https://cloud.example:8774/compute`: same scheme, host and
/// port, and the path starts with the entry's path at a segment boundary) or a bare
/// `host[:port]` (any scheme; any port if none is given). An empty list allows only the
/// auth URL's host (any port, since services listen on their own ports).
class endpoint_allowlist {
public:
  endpoint_allowlist(std::vector<std::string> entries, std::string_view auth_url);

  /// Parses `OPENSTACK_ENDPOINT_ALLOWLIST`: entries separated by commas or whitespace.
  static endpoint_allowlist parse(std::string_view list, std::string_view auth_url);

  /// Whether the client may send to `url`. URLs that do not parse are refused.
  bool allows(std::string_view url) const;

private:
  struct rule {
    std::string scheme; // empty: any
    std::string host;
    uint16_t port = 0; // 0: any
    std::string path;  // empty: any
  };

  std::vector<rule> rules_;
};

/// When a token received at `received_at` should be replaced: after its lifetime
/// (`expires_at - issued_at`, which is immune to clock skew) minus `margin`. The margin is
/// capped at half the lifetime so that short-lived tokens are still used.
std::chrono::steady_clock::time_point
token_refresh_at(const auth_token& token, std::chrono::steady_clock::time_point received_at,
                 std::chrono::milliseconds margin);

} // namespace orch::openstack
