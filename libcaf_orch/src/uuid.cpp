#include "orch/uuid.hpp"

#include <stdexcept>

#include <openssl/rand.h>

namespace orch {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_dash_position(size_t i) noexcept {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

} // namespace

uuid uuid::random() {
  uuid result;
  // A predictable ID would let a client guess other tenants' deployments: no fallback PRNG.
  if (RAND_bytes(result.bytes.data(), static_cast<int>(result.bytes.size())) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: no entropy for a UUID");
  result.bytes[6] = static_cast<uint8_t>((result.bytes[6] & 0x0F) | 0x40); // version 4
  result.bytes[8] = static_cast<uint8_t>((result.bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
  return result;
}

std::optional<uuid> uuid::parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  uuid result;
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (is_dash_position(i)) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    auto hi = hex_value(text[i]);
    auto lo = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    if (hi < 0 || lo < 0 || is_dash_position(i + 1)) return std::nullopt;
    result.bytes[byte++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return result;
}

bool uuid::is_nil() const noexcept {
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

std::string to_string(const uuid& x) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(36);
  for (size_t i = 0; i < x.bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) result += '-';
    result += digits[x.bytes[i] >> 4];
    result += digits[x.bytes[i] & 0x0F];
  }
  return result;
}

} // namespace orch
