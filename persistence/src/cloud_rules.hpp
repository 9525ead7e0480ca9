#pragma once

#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "orch/errc.hpp"
#include "orch/persistence/cloud_repository.hpp"

namespace orch::persistence {

/// The checks both `cloud_repository` implementations make before storing a region (the table's
/// CHECK constraints say the same).
inline caf::error check_cloud(const stored_cloud& c) {
  auto starts_with = [](std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
  };
  if (c.region.empty() || c.region.size() > 255)
    return make_error(errc::invalid_spec, "region must be 1..255 characters");
  if (!starts_with(c.auth_url, "http://") && !starts_with(c.auth_url, "https://"))
    return make_error(errc::invalid_spec, "auth URL must start with http:// or https://");
  if (c.username.empty() == c.application_credential_id.empty())
    return make_error(errc::invalid_spec,
                      "exactly one of user name and application credential id must be set");
  for (const auto& entry : c.endpoint_allowlist)
    if (entry.empty() || entry.find_first_of(" \t\r\n,") != std::string::npos)
      return make_error(errc::invalid_spec,
                        "endpoint allowlist entries must be non-empty, without spaces or commas");
  bool version_ok
    = c.secret.key_version.size() == 8
      && c.secret.key_version.find_first_not_of("0123456789abcdef") == std::string::npos;
  // Nonce (12 bytes) and tag (16 bytes) at least.
  if (!version_ok || c.secret.bytes.size() < 28)
    return make_error(errc::invalid_spec, "secret must be sealed (key version and ciphertext)");
  return caf::none;
}

inline caf::error unknown_cloud(std::string_view region) {
  return make_error(errc::not_found, "no cloud region '" + std::string{region} + "'");
}

inline caf::error cloud_in_use(std::string_view region) {
  return make_error(errc::conflict, "cloud region '" + std::string{region}
                                      + "' is used by deployments that are not DELETED; "
                                        "delete them first");
}

inline caf::error cloud_secret_changed(std::string_view region) {
  return make_error(errc::conflict,
                    "the secret of cloud region '" + std::string{region} + "' changed meanwhile");
}

} // namespace orch::persistence
