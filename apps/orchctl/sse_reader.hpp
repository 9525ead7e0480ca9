#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace orch::ctl {

/// One Server-Sent Event as dispatched at its terminating blank line.
struct sse_event {
  std::string id;
  std::string event;
  std::string data;
};

/// Incremental parser of a `text/event-stream` body (WHATWG HTML, "event stream
/// interpretation"): feed it bytes as they arrive, in pieces of any size. Pure.
class sse_reader {
public:
  /// Consumes `bytes` and returns the events completed by them, in order. Comments
  /// (`: keep-alive`) and an event cut off before its blank line yield nothing.
  std::vector<sse_event> feed(std::string_view bytes);

  /// The id of the last dispatched event that had one: the `Last-Event-ID` to resume with.
  const std::string& last_event_id() const noexcept { return last_id_; }

private:
  void on_line(std::string_view line, std::vector<sse_event>& out);

  std::string partial_line_;
  bool skip_lf_ = false;
  sse_event pending_;
  bool has_data_ = false;
  std::string last_id_;
};

} // namespace orch::ctl
