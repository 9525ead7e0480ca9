#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace orch {

/// A point in UTC time with microsecond resolution (what PostgreSQL's timestamptz keeps).
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// RFC 3339 in UTC with a `Z`, e.g. `2026-01-15T10:30:00Z`; fractional seconds only when
/// non-zero (`2026-01-15T10:30:00.123456Z`).
std::string to_rfc3339(timestamp t);

/// Parses RFC 3339 (`Z` or a numeric offset, optional fraction); `nullopt` if malformed.
std::optional<timestamp> parse_rfc3339(std::string_view text);

} // namespace orch
