#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <rapidjson/document.h>

namespace orch::ctl {

/// Follows one operation of a deployment through its events (history items or SSE data, both
/// `{"seq", "at", "type", "data"}`) and says where it stands. Pure: time comes in as an argument.
///
/// Events before the awaited operation's `operation_started` (the tail of an earlier operation,
/// or the one a DELETE cancelled) are described but not counted.
class progress_tracker {
public:
  /// Awaits the next operation of type `operation` (`deploy`, `scale`, ...); an empty type
  /// takes whichever starts next. `expected_total` is the number of resources the operation is
  /// known to touch (0: unknown, counted as their intents appear).
  explicit progress_tracker(std::string operation, int expected_total = 0);

  /// Takes one event in; returns its one-line description (empty for an item that is not an
  /// event object).
  std::string apply(const rapidjson::Value& item);

  /// The awaited operation has ended.
  bool finished() const noexcept { return finished_; }

  /// The awaited operation has ended and the deployment's status has moved on from it (the
  /// `status_changed` that follows `operation_finished`): nothing more will change.
  bool settled() const noexcept { return settled_; }

  /// How it ended: `succeeded`, `failed` or `cancelled` (empty while running).
  const std::string& outcome() const noexcept { return outcome_; }

  /// The error of a failed operation, as `code: message (resource)`.
  const std::string& error() const noexcept { return error_; }

  /// The deployment's status after the events seen so far (empty before the first change).
  const std::string& status() const noexcept { return status_; }

  /// The seq of the last event taken in.
  int64_t last_seq() const noexcept { return last_seq_; }

  /// Resources of the awaited operation that are done.
  int done() const noexcept { return static_cast<int>(done_.size()); }

  /// Resources the awaited operation touches, as far as known.
  int total() const noexcept;

  /// The progress line redrawn on a terminal, at most `width` columns:
  /// `my-app  IN_PROGRESS  [#####-----] 4/8 resources  creating server my-app-web-2  0:12`.
  std::string render(const std::string& name, std::chrono::seconds elapsed,
                     std::size_t width = 100) const;

private:
  std::string describe(const std::string& type, const rapidjson::Value& data);
  std::string display_name(const std::string& logical) const;

  std::string operation_;
  int expected_total_;
  bool started_ = false;
  bool finished_ = false;
  bool settled_ = false;
  std::string outcome_;
  std::string error_;
  std::string status_;
  std::string step_;
  int64_t last_seq_ = 0;
  std::set<std::string> touched_;
  std::set<std::string> done_;
  std::map<std::string, std::string> cloud_names_;
};

/// `m:ss` (or `h:mm:ss`) for a progress line.
std::string format_elapsed(std::chrono::seconds elapsed);

} // namespace orch::ctl
