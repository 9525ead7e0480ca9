#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orch::schemas {

/// The OpenAPI 3.1 document served at `GET /openapi.json`, embedded at build time.
std::string_view openapi_document();

/// Every operation of the document as (upper-case method, path template), e.g.
/// `{"GET", "/deployments/{id}"}`, in document order. Lets a test check the router against it.
std::vector<std::pair<std::string, std::string>> openapi_operations();

} // namespace orch::schemas
