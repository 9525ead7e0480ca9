#include "sse_reader.hpp"

namespace orch::ctl {

std::vector<sse_event> sse_reader::feed(std::string_view bytes) {
  std::vector<sse_event> out;
  for (char c : bytes) {
    // A line ends at CRLF, LF or CR; the LF of a CRLF split across two feeds is skipped here.
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      on_line(partial_line_, out);
      partial_line_.clear();
    } else {
      partial_line_ += c;
    }
  }
  return out;
}

void sse_reader::on_line(std::string_view line, std::vector<sse_event>& out) {
  if (line.empty()) {
    if (has_data_) {
      if (!pending_.id.empty()) last_id_ = pending_.id;
      out.push_back(std::move(pending_));
    }
    pending_ = sse_event{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;
  auto colon = line.find(':');
  auto field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) pending_.data += '\n';
    pending_.data += value;
    has_data_ = true;
  } else if (field == "event") {
    pending_.event = std::string{value};
  } else if (field == "id" && value.find('\0') == std::string_view::npos) {
    pending_.id = std::string{value};
  }
}

} // namespace orch::ctl
