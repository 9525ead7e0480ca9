#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace orch::schemas {

/// Builds compact JSON text with RapidJSON's SAX writer; every string is escaped and checked
/// for valid UTF-8 on the way out. Calls must nest properly (RapidJSON asserts otherwise).
class json_writer {
public:
  json_writer() : writer_(buffer_) {
    // nop
  }

  json_writer(const json_writer&) = delete;
  json_writer& operator=(const json_writer&) = delete;

  json_writer& begin_object() {
    writer_.StartObject();
    return *this;
  }

  json_writer& end_object() {
    writer_.EndObject();
    return *this;
  }

  json_writer& begin_array() {
    writer_.StartArray();
    return *this;
  }

  json_writer& end_array() {
    writer_.EndArray();
    return *this;
  }

  /// Writes a member name; the next call writes its value.
  json_writer& key(std::string_view name) {
    writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    return *this;
  }

  json_writer& value(std::string_view text) {
    writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    return *this;
  }

  json_writer& value(const char* text) { return value(std::string_view{text}); }

  json_writer& value(const std::string& text) { return value(std::string_view{text}); }

  json_writer& value(int64_t x) {
    writer_.Int64(x);
    return *this;
  }

  json_writer& value(int x) {
    writer_.Int(x);
    return *this;
  }

  json_writer& value(bool x) {
    writer_.Bool(x);
    return *this;
  }

  json_writer& null() {
    writer_.Null();
    return *this;
  }

  /// Inserts `json`, which must already be one complete, valid JSON value.
  json_writer& raw(std::string_view json) {
    writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }

  /// `key(name).value(x)` in one call.
  template <class T>
  json_writer& member(std::string_view name, const T& x) {
    key(name);
    return value(x);
  }

  /// `true` once exactly one complete top-level value has been written.
  bool is_complete() const { return writer_.IsComplete(); }

  /// The text written so far.
  std::string str() const { return std::string{buffer_.GetString(), buffer_.GetSize()}; }

private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

} // namespace orch::schemas
