// IPv4 and IPv6 address arithmetic for Neutron's allocator. Addresses are 16 bytes (IPv4 in
// the last four), offsets are counted from the network address.

#include <boost/asio/ip/address.hpp>

#include "service.hpp"

namespace orch::sim {

std::optional<std::array<uint8_t, 16>> parse_address(std::string_view text, int version) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string{text}, ec);
  if (ec) return std::nullopt;
  std::array<uint8_t, 16> result{};
  if (version == 4) {
    if (!addr.is_v4()) return std::nullopt;
    auto bytes = addr.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), result.begin() + 12);
  } else {
    if (!addr.is_v6()) return std::nullopt;
    auto bytes = addr.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.end(), result.begin());
  }
  return result;
}

std::optional<cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  cidr result;
  result.version = text.find(':') == std::string_view::npos ? 4 : 6;
  auto addr = parse_address(text.substr(0, slash), result.version);
  if (!addr) return std::nullopt;
  auto len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3) return std::nullopt;
  int prefix = 0;
  for (char ch : len) {
    if (ch < '0' || ch > '9') return std::nullopt;
    prefix = prefix * 10 + (ch - '0');
  }
  int bits = result.version == 4 ? 32 : 128;
  // Offsets are 64-bit: IPv6 subnets must be /64 or longer, as Neutron's SLAAC requires anyway.
  if (prefix > bits - 2 || (result.version == 6 && prefix < 64)
      || (result.version == 4 && prefix < 8))
    return std::nullopt;
  result.prefix = prefix;
  // Clear the host bits: Neutron normalises `10.0.0.5/24` to `10.0.0.0/24`.
  int first_byte = result.version == 4 ? 12 : 0;
  for (int bit = prefix; bit < bits; ++bit) {
    auto idx = first_byte + bit / 8;
    (*addr)[idx] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  result.base = *addr;
  return result;
}

namespace {

uint64_t low64(const std::array<uint8_t, 16>& a) {
  uint64_t result = 0;
  for (int i = 8; i < 16; ++i) result = (result << 8) | a[i];
  return result;
}

} // namespace

std::optional<uint64_t> offset_in(const cidr& net, const std::array<uint8_t, 16>& addr) {
  // Same upper 64 bits (IPv6 prefix >= 64; IPv4 lives in the lower half anyway).
  for (int i = 0; i < 8; ++i)
    if (addr[i] != net.base[i]) return std::nullopt;
  auto off = low64(addr) - low64(net.base);
  if (low64(addr) < low64(net.base) || off > last_offset(net) + (net.version == 4 ? 1 : 0))
    return std::nullopt;
  return off;
}

uint64_t last_offset(const cidr& net) {
  int host_bits = (net.version == 4 ? 32 : 128) - net.prefix;
  uint64_t size_minus_one = host_bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << host_bits) - 1;
  return net.version == 4 ? size_minus_one - 1 : size_minus_one;
}

std::string address_at(int version, const std::array<uint8_t, 16>& base, uint64_t offset) {
  auto value = low64(base) + offset;
  auto bytes = base;
  for (int i = 15; i >= 8; --i, value >>= 8) bytes[i] = static_cast<uint8_t>(value & 0xff);
  if (version == 4)
    return boost::asio::ip::address_v4{{bytes[12], bytes[13], bytes[14], bytes[15]}}.to_string();
  return boost::asio::ip::address_v6{bytes}.to_string();
}

} // namespace orch::sim
