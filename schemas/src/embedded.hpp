#pragma once

#include <string_view>

// Defined in the source that schemas/embed_json.cmake generates from schemas/json/.
namespace orch::schemas::embedded {

extern const std::string_view template_schema_json;
extern const std::string_view openapi_json;

} // namespace orch::schemas::embedded
