// The Server-Sent Events helpers of http/src/sse.cpp: `Last-Event-ID` and `Accept` as a client
// sends them, and `format_sse_event` with arbitrary id, type and data. The formatted event is
// read back the way a browser's EventSource reads it (WHATWG HTML, "Interpreting an event
// stream"): it must be exactly one event whose id, type and data are the ones given, with no
// field a caller's value could have injected.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.hpp"
#include "orch/http/sse.hpp"

namespace bhttp = boost::beast::http;

namespace {

struct sse_reading {
  std::vector<std::string> fields; // field names in order, comments excluded
  std::optional<std::string> id;
  std::string event;
  std::string data;
  int dispatched = 0;
  bool trailing = false; // bytes after the last dispatch
};

// An EventSource parser: lines end at CRLF, LF or CR; a blank line dispatches.
sse_reading read_stream(std::string_view text) {
  sse_reading out;
  std::string data_buffer;
  bool any_field = false;
  while (!text.empty()) {
    auto end = text.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      out.trailing = true;
      break;
    }
    auto line = text.substr(0, end);
    auto skip = text.compare(end, 2, "\r\n") == 0 ? 2 : 1;
    text.remove_prefix(end + skip);
    if (line.empty()) {
      if (any_field) {
        ++out.dispatched;
        if (!data_buffer.empty() && data_buffer.back() == '\n') data_buffer.pop_back();
        out.data = data_buffer;
      }
      data_buffer.clear();
      any_field = false;
      continue;
    }
    if (line.front() == ':') continue; // a comment
    auto colon = line.find(':');
    auto name = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    out.fields.emplace_back(name);
    any_field = true;
    if (name == "data") {
      data_buffer += value;
      data_buffer += '\n';
    } else if (name == "event") {
      out.event = value;
    } else if (name == "id") {
      out.id = std::string{value};
    }
  }
  return out;
}

std::string without_line_breaks(std::string_view text) {
  std::string out;
  for (auto c : text)
    if (c != '\r' && c != '\n') out += c;
  return out;
}

// Data lines as the reader reassembles them: every CRLF, CR or LF becomes one LF.
std::string normalized_data(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

void check_event(std::string_view id, std::string_view event, std::string_view data) {
  auto text = orch::http::format_sse_event(id, event, data);
  auto got = read_stream(text);
  ORCH_FUZZ_ASSERT(!got.trailing);
  ORCH_FUZZ_ASSERT(got.dispatched == 1);
  for (const auto& f : got.fields) ORCH_FUZZ_ASSERT(f == "id" || f == "event" || f == "data");
  auto clean_id = without_line_breaks(id);
  auto clean_event = without_line_breaks(event);
  if (id.empty())
    ORCH_FUZZ_ASSERT(!got.id.has_value());
  else
    ORCH_FUZZ_ASSERT(got.id && *got.id == clean_id);
  ORCH_FUZZ_ASSERT(got.event == (event.empty() ? std::string{} : clean_event));
  ORCH_FUZZ_ASSERT(got.data == normalized_data(data));
  // One id and one event field at most: a value cannot add another.
  std::size_t ids = 0, events = 0;
  for (const auto& f : got.fields) {
    ids += f == "id";
    events += f == "event";
  }
  ORCH_FUZZ_ASSERT(ids <= 1 && events <= 1);
}

void check_comment(std::string_view text) {
  auto got = read_stream(orch::http::format_sse_comment(text));
  ORCH_FUZZ_ASSERT(!got.trailing && got.fields.empty() && got.dispatched == 0);
}

void check_request(const std::string& last_id, const std::string& accept) {
  orch::http::request req{bhttp::verb::get, "/deployments/x/events", 11};
  try {
    req.set("Last-Event-ID", last_id);
    req.set(bhttp::field::accept, accept);
  } catch (const std::exception&) {
    return; // Beast refuses some field values; the server would not have parsed them either.
  }
  auto seq = orch::http::last_event_id(req);
  if (seq) {
    // Only plain decimal digits are a sequence number, and they print back the same.
    auto field = req["Last-Event-ID"];
    auto stored = std::string{field.data(), field.size()};
    ORCH_FUZZ_ASSERT(!stored.empty());
    ORCH_FUZZ_ASSERT(stored.find_first_not_of("0123456789") == std::string::npos);
    auto digits = stored.find_first_not_of('0');
    auto canonical = digits == std::string::npos ? std::string{"0"} : stored.substr(digits);
    ORCH_FUZZ_ASSERT(std::to_string(*seq) == canonical);
  }
  auto streams = orch::http::accepts_event_stream(req);
  if (streams) {
    auto field = req[bhttp::field::accept];
    auto stored = std::string{field.data(), field.size()};
    std::string lower;
    for (auto c : stored) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    ORCH_FUZZ_ASSERT(lower.find("text/event-stream") != std::string::npos);
  }
  auto head = orch::http::make_sse_head(req);
  ORCH_FUZZ_ASSERT(head[bhttp::field::content_type] == "text/event-stream");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in{data, size};
  auto id = in.ConsumeRandomLengthString(64);
  auto event = in.ConsumeRandomLengthString(64);
  auto accept = in.ConsumeRandomLengthString(128);
  auto body = in.ConsumeRemainingBytesAsString();
  check_event(id, event, body);
  check_comment(event);
  check_request(id, accept);
  return 0;
}
