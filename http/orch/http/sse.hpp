#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "orch/http/server.hpp"

namespace orch::http {

/// The media type of a Server-Sent Events stream.
inline constexpr std::string_view sse_media_type = "text/event-stream";

/// One event in the `text/event-stream` format: `id:` (if not empty), `event:` (if not empty),
/// one `data:` line per line of `data` (CR, LF and CRLF all split lines), and the blank line
/// that ends the event. Carriage returns and line feeds in `id` and `event` are dropped, so a
/// caller's value cannot start a new field.
std::string format_sse_event(std::string_view id, std::string_view event, std::string_view data);

/// A comment line (`: text`), e.g. a keep-alive that stops proxies from closing an idle stream.
std::string format_sse_comment(std::string_view text);

/// The head of an SSE response for `req`: 200, `Content-Type: text/event-stream`,
/// `Cache-Control: no-cache`, and `X-Accel-Buffering: no` so that proxies pass events at once.
/// Hand it to `responder::stream`.
response make_sse_head(const request& req);

/// `true` if the client asks for an event stream (`Accept` lists `text/event-stream`).
bool accepts_event_stream(const request& req);

/// The `Last-Event-ID` a reconnecting client sends, as a sequence number; `nullopt` if absent or
/// not a non-negative integer.
std::optional<std::uint64_t> last_event_id(const request& req);

} // namespace orch::http
