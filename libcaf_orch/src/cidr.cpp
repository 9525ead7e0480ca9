#include "orch/cidr.hpp"

#include <arpa/inet.h>

#include "orch/errc.hpp"

namespace orch {

namespace {

int max_prefix(ip_family family) noexcept {
  return family == ip_family::v4 ? 32 : 128;
}

/// Dotted quad with exactly four decimal octets, no leading zeros (they read as octal to some
/// tools, so `010.0.0.0` is ambiguous).
bool parse_ipv4(std::string_view text, std::array<uint8_t, 16>& out) {
  size_t pos = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (pos >= text.size() || text[pos] != '.') return false;
      ++pos;
    }
    size_t start = pos;
    int value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 3) {
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    size_t digits = pos - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
    out[static_cast<size_t>(octet)] = static_cast<uint8_t>(value);
  }
  return pos == text.size();
}

bool parse_ipv6(std::string_view text, std::array<uint8_t, 16>& out) {
  // inet_pton reads a C string: whatever follows a NUL would be accepted unread.
  if (text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos) return false;
  std::string buf{text};
  return inet_pton(AF_INET6, buf.c_str(), out.data()) == 1;
}

/// Clears every bit after the first `prefix` bits.
std::array<uint8_t, 16> masked(const std::array<uint8_t, 16>& address, int prefix) {
  auto result = address;
  for (size_t i = 0; i < result.size(); ++i) {
    int bits_left = prefix - static_cast<int>(i) * 8;
    if (bits_left >= 8) continue;
    if (bits_left <= 0)
      result[i] = 0;
    else
      result[i] &= static_cast<uint8_t>(0xFF << (8 - bits_left));
  }
  return result;
}

caf::error invalid(std::string detail) {
  return make_error(errc::invalid_spec, std::move(detail));
}

} // namespace

std::string to_string(ip_family x) {
  return x == ip_family::v4 ? "IPv4" : "IPv6";
}

caf::expected<cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return invalid("must be a CIDR block like 10.0.0.0/16 (address/prefix)");
  auto addr_text = text.substr(0, slash);
  auto prefix_text = text.substr(slash + 1);
  cidr result;
  if (addr_text.find(':') != std::string_view::npos) {
    result.family = ip_family::v6;
    if (!parse_ipv6(addr_text, result.address))
      return invalid("'" + std::string{addr_text} + "' is not a valid IPv6 address");
  } else if (!parse_ipv4(addr_text, result.address)) {
    return invalid("'" + std::string{addr_text}
                   + "' is not a valid IPv4 address (four decimal octets 0..255, no leading "
                     "zeros)");
  }
  auto limit = max_prefix(result.family);
  int prefix = 0;
  bool digits_ok = !prefix_text.empty() && prefix_text.size() <= 3
                   && (prefix_text.size() == 1 || prefix_text[0] != '0');
  // Only up to three digits are read: a longer prefix is refused before it can overflow.
  for (auto c : digits_ok ? prefix_text : std::string_view{}) {
    if (c < '0' || c > '9') {
      digits_ok = false;
      break;
    }
    prefix = prefix * 10 + (c - '0');
  }
  if (!digits_ok || prefix > limit)
    return invalid(to_string(result.family) + " prefix must be an integer 0.."
                   + std::to_string(limit));
  result.prefix = prefix;
  auto network = masked(result.address, prefix);
  if (network != result.address) {
    result.address = network;
    return invalid("host bits set, did you mean " + to_string(result));
  }
  return result;
}

std::string to_string(const cidr& x) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(x.family == ip_family::v4 ? AF_INET : AF_INET6, x.address.data(), buf, sizeof(buf));
  return std::string{buf} + '/' + std::to_string(x.prefix);
}

bool contains(const cidr& outer, const cidr& inner) noexcept {
  if (outer.family != inner.family || inner.prefix < outer.prefix) return false;
  return masked(inner.address, outer.prefix) == masked(outer.address, outer.prefix);
}

bool overlaps(const cidr& a, const cidr& b) noexcept {
  // Two aligned blocks either nest or are disjoint.
  return contains(a, b) || contains(b, a);
}

} // namespace orch
