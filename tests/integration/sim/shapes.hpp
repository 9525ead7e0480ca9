#pragma once

// "Same keys, same types": every key of a sample answer must be in ours with the same JSON
// type, recursively (arrays compare their first elements). A null on either side matches any
// type, since OpenStack fields are nullable.

#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace orch::sim::testing {

inline std::string type_name(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "bool";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  return "object";
}

/// Differences between `sample` and `ours`; `skip` holds paths (`/server/metadata/*` skips the
/// children of metadata) whose content the sample shows with placeholder keys or newer fields.
inline void compare_shapes(const rapidjson::Value& sample, const rapidjson::Value& ours,
                           const std::string& path, const std::set<std::string>& skip,
                           std::vector<std::string>& diffs) {
  if (sample.IsNull() || ours.IsNull()) return;
  if (type_name(sample) != type_name(ours)) {
    diffs.push_back(path + ": sample " + type_name(sample) + ", ours " + type_name(ours));
    return;
  }
  if (sample.IsObject()) {
    if (skip.count(path + "/*")) return;
    for (auto& m : sample.GetObject()) {
      auto key = path + "/" + m.name.GetString();
      if (skip.count(key)) continue;
      if (!ours.HasMember(m.name)) {
        diffs.push_back(key + ": missing");
        continue;
      }
      compare_shapes(m.value, ours[m.name], key, skip, diffs);
    }
  } else if (sample.IsArray() && !sample.Empty() && !ours.Empty()) {
    compare_shapes(sample[0], ours[0], path + "/0", skip, diffs);
  }
}

} // namespace orch::sim::testing
