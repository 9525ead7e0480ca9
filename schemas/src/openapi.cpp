#include "orch/schemas/openapi.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

#include <rapidjson/document.h>

#include "embedded.hpp"

namespace orch::schemas {

std::string_view openapi_document() {
  return embedded::openapi_json;
}

std::vector<std::pair<std::string, std::string>> openapi_operations() {
  static constexpr std::array<std::string_view, 8> methods{"get",   "put",     "post", "delete",
                                                           "patch", "options", "head", "trace"};
  rapidjson::Document doc;
  auto text = openapi_document();
  doc.Parse(text.data(), text.size());
  // The document is ours and tested: failing to parse it is a build defect.
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("paths")) std::abort();
  std::vector<std::pair<std::string, std::string>> result;
  // Through a const reference: RapidJSON 1.1's mutable member iterators compare ambiguously
  // under C++20's reversed operators (clang's -Wambiguous-reversed-operator).
  const auto& paths = doc["paths"];
  for (const auto& path : paths.GetObject()) {
    if (!path.value.IsObject()) continue;
    for (const auto& item : path.value.GetObject()) {
      std::string_view key{item.name.GetString(), item.name.GetStringLength()};
      // Path items also hold "parameters", "summary", ...: only HTTP methods are operations.
      if (std::find(methods.begin(), methods.end(), key) == methods.end()) continue;
      std::string method{key};
      for (auto& c : method) c = static_cast<char>(c - 'a' + 'A');
      result.emplace_back(std::move(method), path.name.GetString());
    }
  }
  return result;
}

} // namespace orch::schemas
