#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace orch {

/// Address family of a CIDR block.
enum class ip_family : uint8_t {
  v4,
  v6,
};

/// Stable name of `x`: `IPv4` or `IPv6`.
std::string to_string(ip_family x);

/// A canonical network block such as `10.0.1.0/24` or `fd00::/64`: every host bit is zero.
struct cidr {
  ip_family family = ip_family::v4;
  /// Network address in network byte order; an IPv4 block uses the first 4 bytes only.
  std::array<uint8_t, 16> address{};
  /// Prefix length: 0..32 for IPv4, 0..128 for IPv6.
  int prefix = 0;

  friend bool operator==(const cidr&, const cidr&) = default;
};

/// Parses `address/prefix` in canonical form. Fails with `errc::invalid_spec` whose detail
/// says why (malformed address, prefix out of range, or host bits set, naming the block the
/// caller probably meant). No whitespace, no leading zeros in IPv4 octets.
caf::expected<cidr> parse_cidr(std::string_view text);

/// Canonical text: dotted quad for IPv4, RFC 5952 for IPv6, then `/prefix`.
std::string to_string(const cidr& x);

/// `true` if every address of `inner` lies in `outer` (same family only).
bool contains(const cidr& outer, const cidr& inner) noexcept;

/// `true` if `a` and `b` share at least one address (same family only).
bool overlaps(const cidr& a, const cidr& b) noexcept;

} // namespace orch
