#include "orch/ansible/output_buffer.hpp"

#include <algorithm>

namespace orch::ansible {

output_buffer::output_buffer(size_t head, size_t tail) : head_limit_(head), tail_limit_(tail) {
  // nop
}

void output_buffer::append(std::string_view chunk) {
  total_ += chunk.size();
  if (head_.size() < head_limit_) {
    auto n = std::min(chunk.size(), head_limit_ - head_.size());
    head_.append(chunk.substr(0, n));
    chunk.remove_prefix(n);
  }
  tail_.append(chunk);
  if (tail_.size() > 2 * tail_limit_) tail_.erase(0, tail_.size() - tail_limit_);
}

std::string output_buffer::str() const {
  if (!is_truncated()) return head_ + tail_;
  auto kept_tail = std::string_view{tail_}.substr(tail_.size() - tail_limit_);
  auto left_out = total_ - head_.size() - kept_tail.size();
  std::string result = head_;
  result += "\n[... " + std::to_string(left_out) + " bytes of output left out ...]\n";
  result += kept_tail;
  return result;
}

} // namespace orch::ansible
