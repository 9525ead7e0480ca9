#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orch::openstack {

/// The parts of an absolute `http`/`https` URL the client needs.
struct parsed_url {
  /// Lower case: `http` or `https`.
  std::string scheme;
  /// Lower case; an IPv6 literal keeps its brackets.
  std::string host;
  /// Explicit, or 80/443 by scheme.
  uint16_t port = 0;
  /// Starts with `/` (just `/` when the URL has none); excludes query and fragment.
  std::string path;
  /// After `?`, without it; empty if none.
  std::string query;
};

/// Parses an absolute URL. Rejects other schemes, an empty host, a bad port and user
/// information (`http://user@host/`), which could smuggle a different host past a prefix
/// check.
std::optional<parsed_url> parse_url(std::string_view url);

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

/// `base` without trailing slashes, then `path` (which starts with `/`).
std::string join_url(std::string_view base, std::string_view path);

} // namespace orch::openstack
