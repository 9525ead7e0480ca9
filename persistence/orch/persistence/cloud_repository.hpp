#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "orch/secret_keyring.hpp"
#include "orch/time.hpp"

namespace orch::persistence {

class pool;

/// An OpenStack region as `orchestrator clouds add` stores it. The password or application
/// credential secret is kept only sealed; sealing and opening is the caller's business (see
/// `orch::secret_keyring`), so this type never holds a plaintext secret.
struct stored_cloud {
  /// The region name deployments select with `cloud_region`; the primary key.
  std::string region;
  /// Keystone v3 URL, `http://` or `https://`.
  std::string auth_url;
  /// Set for password authentication; empty for an application credential.
  std::string username;
  /// Set for application credential authentication; empty for a password.
  std::string application_credential_id;
  std::string project_name;
  std::string user_domain_name = "Default";
  std::string project_domain_name = "Default";
  /// The password or the application credential secret, sealed with the region as associated
  /// data.
  sealed_secret secret;
  /// PEM of a CA trusted for this cloud besides the system's; empty for none. Not a secret.
  std::string ca_certificate;
  /// URL prefixes or `host[:port]` the client may call (see `openstack::endpoint_allowlist`).
  std::vector<std::string> endpoint_allowlist;
  timestamp created_at;
  timestamp updated_at;
};

/// The regions of the `clouds` table. Every call may fail with `errc::store_unavailable` when
/// the database is down.
class cloud_repository {
public:
  virtual ~cloud_repository() = default;

  /// Adds the region, or replaces every field of an existing one (its `created_at` stays).
  /// `errc::invalid_spec` naming the field for an empty region, an auth URL that is not
  /// http(s), neither or both of user name and application credential id, or a malformed
  /// sealed secret. Answers the row as stored.
  virtual caf::expected<stored_cloud> put(const stored_cloud& cloud) = 0;

  /// Every region, by name.
  virtual caf::expected<std::vector<stored_cloud>> list() = 0;

  /// The region; `errc::not_found` if there is none.
  virtual caf::expected<stored_cloud> get(std::string_view region) = 0;

  /// Deletes the region and answers it as it was. `errc::not_found` if there is none;
  /// `errc::conflict` while a deployment that is not DELETED uses it.
  virtual caf::expected<stored_cloud> remove(std::string_view region) = 0;

  /// Replaces the sealed secret of `region` if it still is `expected` (a concurrent `put`
  /// wins); for `orchestrator clouds reencrypt`. `errc::not_found`, or `errc::conflict` if the
  /// secret changed meanwhile.
  virtual caf::expected<stored_cloud> replace_secret(std::string_view region,
                                                     const sealed_secret& expected,
                                                     const sealed_secret& replacement)
    = 0;
};

/// A `cloud_repository` over the `clouds` table, borrowing connections from `db` (which must
/// outlive it). `remove` checks the `deployments` table in the same statement. Thread-safe.
std::unique_ptr<cloud_repository> make_pg_cloud_repository(pool& db);

/// The in-memory double for unit tests. `region_in_use` plays the `deployments` table for
/// `remove`: it answers whether a deployment that is not DELETED uses a region (none if
/// empty). Thread-safe.
std::unique_ptr<cloud_repository>
make_memory_cloud_repository(std::function<bool(std::string_view region)> region_in_use = {});

} // namespace orch::persistence
