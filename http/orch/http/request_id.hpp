#pragma once

#include <string>
#include <string_view>

namespace orch::http {

/// `true` if a client-sent `X-Request-ID` may be echoed: 1 to 128 characters of
/// `[A-Za-z0-9._-]` (nothing that could forge a log line or a header).
bool is_sane_request_id(std::string_view id) noexcept;

/// The id of a request: `sent` when sane, a fresh random UUID otherwise.
std::string resolve_request_id(std::string_view sent);

} // namespace orch::http
