#include "orch/http/request_id.hpp"

#include <algorithm>

#include "orch/uuid.hpp"

namespace orch::http {

bool is_sane_request_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
           || c == '_' || c == '-';
  });
}

std::string resolve_request_id(std::string_view sent) {
  if (is_sane_request_id(sent)) return std::string{sent};
  return to_string(uuid::random());
}

} // namespace orch::http
