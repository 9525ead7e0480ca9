#pragma once

#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

namespace orch::testing {

/// Parses a response body; throws if it is not JSON, so a test fails with a clear reason.
inline rapidjson::Document parse_json(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError()) throw std::runtime_error("response is not JSON: " + body);
  return doc;
}

} // namespace orch::testing
