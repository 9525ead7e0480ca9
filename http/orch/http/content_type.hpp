#pragma once

#include <string_view>

namespace orch::http {

/// `true` if `content_type` names `application/json`, in any case, with or without parameters
/// such as `charset=utf-8`.
bool is_json_content_type(std::string_view content_type) noexcept;

} // namespace orch::http
