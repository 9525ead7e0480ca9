#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace orch::ansible {

/// Keeps the output of a run within a bound: its first `head` bytes and its last `tail` bytes,
/// with a marker saying how much was left out in between. A run may print without limit; what
/// is stored and served stays small.
class output_buffer {
public:
  /// 32 KiB of head and 32 KiB of tail by default.
  explicit output_buffer(size_t head = 32 * 1024, size_t tail = 32 * 1024);

  /// Adds `chunk` at the end of the output.
  void append(std::string_view chunk);

  /// The kept output: all of it while it fits, else head, marker line, tail.
  std::string str() const;

  /// Bytes appended so far.
  size_t total() const noexcept { return total_; }

  /// `true` once some output was left out.
  bool is_truncated() const noexcept { return total_ > head_limit_ + tail_limit_; }

private:
  size_t head_limit_;
  size_t tail_limit_;
  size_t total_ = 0;
  std::string head_;
  // Holds up to twice `tail_limit_` so that trimming happens once per `tail_limit_` bytes.
  std::string tail_;
};

} // namespace orch::ansible
