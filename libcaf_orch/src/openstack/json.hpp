#pragma once

// Private helpers for reading and writing OpenStack JSON with RapidJSON. Readers throw
// `shape_error`, which `guarded` turns into a `malformed_response` at the public boundary,
// so that a parser reads like the body it expects.

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "orch/openstack/errors.hpp"
#include "orch/time.hpp"

namespace orch::openstack::detail {

using json_value = rapidjson::Value;
using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// A body that does not have the expected shape: `path` names the offending element.
struct shape_error {
  std::string path;
  std::string what;
};

inline std::string child_path(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string{key};
  return path + "." + std::string{key};
}

inline std::string index_path(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

/// The member `key` of `obj`, or nullptr when missing or null.
inline const json_value* find(const json_value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd() || i->value.IsNull()) return nullptr;
  return &i->value;
}

inline const json_value& require_object(const json_value& obj, const char* key,
                                        const std::string& path) {
  auto* x = find(obj, key);
  if (x == nullptr) throw shape_error{child_path(path, key), "missing"};
  if (!x->IsObject()) throw shape_error{child_path(path, key), "expected an object"};
  return *x;
}

inline const json_value& require_array(const json_value& obj, const char* key,
                                       const std::string& path) {
  auto* x = find(obj, key);
  if (x == nullptr) throw shape_error{child_path(path, key), "missing"};
  if (!x->IsArray()) throw shape_error{child_path(path, key), "expected an array"};
  return *x;
}

inline std::string require_string(const json_value& obj, const char* key, const std::string& path) {
  auto* x = find(obj, key);
  if (x == nullptr) throw shape_error{child_path(path, key), "missing"};
  if (!x->IsString()) throw shape_error{child_path(path, key), "expected a string"};
  if (x->GetStringLength() == 0) throw shape_error{child_path(path, key), "empty"};
  return std::string{x->GetString(), x->GetStringLength()};
}

/// Missing or null: empty string.
inline std::string optional_string(const json_value& obj, const char* key,
                                   const std::string& path) {
  auto* x = find(obj, key);
  if (x == nullptr) return {};
  if (!x->IsString()) throw shape_error{child_path(path, key), "expected a string"};
  return std::string{x->GetString(), x->GetStringLength()};
}

/// Missing or null: `fallback`. Accepts integers and numeric strings (Nova and Cinder send
/// some numbers as strings).
inline int optional_int(const json_value& obj, const char* key, const std::string& path,
                        int fallback = 0) {
  auto* x = find(obj, key);
  if (x == nullptr) return fallback;
  if (x->IsInt()) return x->GetInt();
  if (x->IsString()) {
    int value = 0;
    auto text = std::string_view{x->GetString(), x->GetStringLength()};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc{} && end == text.data() + text.size()) return value;
  }
  throw shape_error{child_path(path, key), "expected an integer"};
}

/// Missing or null: `fallback`. Accepts booleans and the strings "true"/"false" (Cinder's
/// `bootable`).
inline bool optional_bool(const json_value& obj, const char* key, const std::string& path,
                          bool fallback = false) {
  auto* x = find(obj, key);
  if (x == nullptr) return fallback;
  if (x->IsBool()) return x->GetBool();
  if (x->IsString()) {
    auto text = std::string_view{x->GetString(), x->GetStringLength()};
    if (text == "true" || text == "True") return true;
    if (text == "false" || text == "False") return false;
  }
  throw shape_error{child_path(path, key), "expected a boolean"};
}

inline std::vector<std::string> optional_strings(const json_value& obj, const char* key,
                                                 const std::string& path) {
  std::vector<std::string> result;
  auto* x = find(obj, key);
  if (x == nullptr) return result;
  if (!x->IsArray()) throw shape_error{child_path(path, key), "expected an array"};
  auto base = child_path(path, key);
  for (rapidjson::SizeType i = 0; i < x->Size(); ++i) {
    const auto& item = (*x)[i];
    if (!item.IsString()) throw shape_error{index_path(base, i), "expected a string"};
    result.emplace_back(item.GetString(), item.GetStringLength());
  }
  return result;
}

/// An object of strings. Non-string values are kept as their JSON text (`false`, `1`).
inline std::map<std::string, std::string>
optional_string_map(const json_value& obj, const char* key, const std::string& path) {
  std::map<std::string, std::string> result;
  auto* x = find(obj, key);
  if (x == nullptr) return result;
  if (!x->IsObject()) throw shape_error{child_path(path, key), "expected an object"};
  for (auto i = x->MemberBegin(); i != x->MemberEnd(); ++i) {
    std::string name{i->name.GetString(), i->name.GetStringLength()};
    if (i->value.IsString()) {
      result.emplace(std::move(name),
                     std::string{i->value.GetString(), i->value.GetStringLength()});
    } else {
      rapidjson::StringBuffer buf;
      json_writer writer{buf};
      i->value.Accept(writer);
      result.emplace(std::move(name), std::string{buf.GetString(), buf.GetSize()});
    }
  }
  return result;
}

inline std::optional<timestamp> optional_time(const json_value& obj, const char* key,
                                              const std::string& path) {
  auto text = optional_string(obj, key, path);
  if (text.empty()) return std::nullopt;
  if (auto t = parse_rfc3339(text)) return t;
  // Neutron and Nova's launched_at omit the zone; they are UTC.
  if (auto t = parse_rfc3339(text + "Z")) return t;
  throw shape_error{child_path(path, key), "expected an ISO 8601 time"};
}

/// The `href` of the `rel: next` entry in the links array `key`, if any.
inline std::optional<std::string> next_link(const json_value& obj, const char* key,
                                            const std::string& path) {
  auto* links = find(obj, key);
  if (links == nullptr) return std::nullopt;
  if (!links->IsArray()) throw shape_error{child_path(path, key), "expected an array"};
  auto base = child_path(path, key);
  for (rapidjson::SizeType i = 0; i < links->Size(); ++i) {
    const auto& link = (*links)[i];
    if (!link.IsObject()) throw shape_error{index_path(base, i), "expected an object"};
    if (optional_string(link, "rel", index_path(base, i)) == "next")
      return require_string(link, "href", index_path(base, i));
  }
  return std::nullopt;
}

/// Parses `body` and runs `fn` on the document; shape errors become `malformed_response`.
template <class T, class F>
result<T> guarded(std::string_view body, F&& fn) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError())
    return os_error{os_error_kind::malformed_response,
                    0,
                    "invalid_json",
                    "response body is not JSON",
                    std::nullopt,
                    {}};
  if (!doc.IsObject())
    return os_error{os_error_kind::malformed_response,
                    0,
                    "invalid_json",
                    "response body is not a JSON object",
                    std::nullopt,
                    {}};
  try {
    return fn(static_cast<const json_value&>(doc));
  } catch (const shape_error& err) {
    return os_error{os_error_kind::malformed_response,
                    0,
                    "unexpected_shape",
                    (err.path.empty() ? std::string{"body"} : err.path) + ": " + err.what,
                    std::nullopt,
                    {}};
  }
}

/// Applies `fn` to every element of the array `key` (required), with its path.
template <class F>
void for_each_item(const json_value& obj, const char* key, const std::string& path, F&& fn) {
  const auto& items = require_array(obj, key, path);
  auto base = child_path(path, key);
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    if (!items[i].IsObject()) throw shape_error{index_path(base, i), "expected an object"};
    fn(items[i], index_path(base, i));
  }
}

inline void write_string(json_writer& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

inline void write_member(json_writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  write_string(w, value);
}

} // namespace orch::openstack::detail
