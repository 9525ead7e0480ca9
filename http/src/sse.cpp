#include "orch/http/sse.hpp"

#include <charconv>

#include <boost/beast/core/string.hpp>

namespace orch::http {

namespace {

std::string_view ssv(boost::beast::string_view x) {
  return {x.data(), x.size()};
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  for (auto c : value)
    if (c != '\r' && c != '\n') out += c;
  out += '\n';
}

} // namespace

std::string format_sse_event(std::string_view id, std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(data.size() + id.size() + event.size() + 32);
  if (!id.empty()) append_field(out, "id", id);
  if (!event.empty()) append_field(out, "event", event);
  for (;;) {
    auto end = data.find_first_of("\r\n");
    out += "data: ";
    out += data.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos) break;
    auto skip = data.compare(end, 2, "\r\n") == 0 ? 2 : 1;
    data.remove_prefix(end + skip);
  }
  out += '\n';
  return out;
}

std::string format_sse_comment(std::string_view text) {
  std::string out;
  append_field(out, "", text);
  return out;
}

response make_sse_head(const request& req) {
  response res{beast_http::status::ok, req.version()};
  res.set(beast_http::field::content_type,
          boost::beast::string_view{sse_media_type.data(), sse_media_type.size()});
  res.set(beast_http::field::cache_control, "no-cache");
  res.set("X-Accel-Buffering", "no");
  return res;
}

bool accepts_event_stream(const request& req) {
  auto accept = ssv(req[beast_http::field::accept]);
  while (!accept.empty()) {
    auto comma = accept.find(',');
    auto item = accept.substr(0, comma);
    item = item.substr(0, item.find(';'));
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (boost::beast::iequals(boost::beast::string_view{item.data(), item.size()},
                              "text/event-stream"))
      return true;
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::uint64_t> last_event_id(const request& req) {
  auto it = req.find("Last-Event-ID");
  if (it == req.end()) return std::nullopt;
  auto text = ssv(it->value());
  std::uint64_t result = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return result;
}

} // namespace orch::http
