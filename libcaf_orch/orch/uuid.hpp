#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orch {

/// A 128-bit UUID; printed lower-case and hyphenated as API.md requires.
struct uuid {
  std::array<uint8_t, 16> bytes{};

  /// A random (version 4) UUID from OpenSSL's CSPRNG.
  static uuid random();

  /// Parses the canonical 36-character form, either case; `nullopt` otherwise.
  static std::optional<uuid> parse(std::string_view text);

  bool is_nil() const noexcept;

  friend auto operator<=>(const uuid&, const uuid&) = default;
};

/// Canonical lower-case, hyphenated form.
std::string to_string(const uuid& x);

} // namespace orch
