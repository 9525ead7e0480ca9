#include "orch/schemas/template_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

#include <rapidjson/error/en.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include "embedded.hpp"
#include "orch/schemas/json_writer.hpp"
#include "orch/template_validation.hpp"

namespace orch::schemas {

namespace {

using rapidjson::Value;

std::string join(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string{key};
  std::string result = path;
  result += '.';
  result += key;
  return result;
}

std::string_view name_of(const Value& member_name) {
  return {member_name.GetString(), member_name.GetStringLength()};
}

size_t code_points(const Value& str) {
  auto text = std::string_view{str.GetString(), str.GetStringLength()};
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

/// Walks a template document the way `template.schema.json` describes it and collects every
/// structural problem, instead of stopping at the first as RapidJSON 1.1's validator does.
class structure_reader {
public:
  explicit structure_reader(std::vector<field_error>& errors) : errors_(errors) {
    // nop
  }

  void error(std::string field, std::string message) {
    errors_.push_back(field_error{std::move(field), std::move(message)});
  }

  /// Reports unknown, repeated and missing members of `obj`; `known` empty allows any name.
  void check_members(const Value& obj, const std::string& path,
                     std::initializer_list<std::string_view> known,
                     std::initializer_list<std::string_view> required) {
    std::set<std::string_view> seen;
    for (auto i = obj.MemberBegin(); i != obj.MemberEnd(); ++i) {
      auto name = name_of(i->name);
      if (!seen.insert(name).second)
        error(join(path, name), "is given more than once");
      else if (known.size() > 0 && std::find(known.begin(), known.end(), name) == known.end())
        error(join(path, name), "unknown field");
    }
    for (auto name : required)
      if (seen.count(name) == 0) error(join(path, name), "is required");
  }

  bool object(const Value& x, const std::string& path) {
    if (x.IsObject()) return true;
    error(path, "must be an object");
    return false;
  }

  std::optional<std::string> string(const Value& x, const std::string& path, size_t max_length) {
    if (!x.IsString()) {
      error(path, "must be a string");
      return std::nullopt;
    }
    if (code_points(x) > max_length) {
      error(path, "must be at most " + std::to_string(max_length) + " characters");
      return std::nullopt;
    }
    return std::string{x.GetString(), x.GetStringLength()};
  }

  std::optional<int> integer(const Value& x, const std::string& path, int min, int max) {
    // A literal too large for 64 bits arrives as a double, but it is an integer out of range.
    if (x.IsDouble() && std::fabs(x.GetDouble()) >= 9.2e18
        && std::floor(x.GetDouble()) == x.GetDouble()) {
      error(path, "must be an integer " + std::string{x.GetDouble() < 0 ? ">= " : "<= "}
                    + std::to_string(x.GetDouble() < 0 ? min : max));
      return std::nullopt;
    }
    // Doubles such as 2.0 or 1e2 are refused, as the schema's "integer" type does.
    if (!x.IsInt64() && !x.IsUint64()) {
      error(path, "must be an integer");
      return std::nullopt;
    }
    if (x.IsInt64() && x.GetInt64() < min) {
      error(path, "must be an integer >= " + std::to_string(min));
      return std::nullopt;
    }
    if (!x.IsInt64() || x.GetInt64() > max) {
      error(path, "must be an integer <= " + std::to_string(max));
      return std::nullopt;
    }
    return static_cast<int>(x.GetInt64());
  }

  std::optional<bool> boolean(const Value& x, const std::string& path) {
    if (!x.IsBool()) {
      error(path, "must be a boolean");
      return std::nullopt;
    }
    return x.GetBool();
  }

  const Value* find(const Value& obj, std::string_view name) {
    // First occurrence: a repeated member is already an error.
    for (auto i = obj.MemberBegin(); i != obj.MemberEnd(); ++i)
      if (name_of(i->name) == name) return &i->value;
    return nullptr;
  }

  volume_spec volume(const Value& x, const std::string& path) {
    volume_spec result;
    if (!object(x, path)) return result;
    check_members(x, path, {"size_gb", "type"}, {"size_gb"});
    if (auto size = find(x, "size_gb")) {
      if (auto value = integer(*size, join(path, "size_gb"), min_volume_gb, max_volume_gb))
        result.size_gb = *value;
      else
        result.size_gb = min_volume_gb; // already reported; keeps the semantic pass quiet
    }
    if (auto type = find(x, "type"))
      if (auto value = string(*type, join(path, "type"), 255)) result.type = *value;
    return result;
  }

  vm_group_spec group(const Value& x, const std::string& path) {
    vm_group_spec result;
    if (!object(x, path)) return result;
    check_members(x, path, {"flavor", "image", "count", "min_count", "volumes"},
                  {"flavor", "image", "count"});
    if (auto flavor = find(x, "flavor"))
      result.flavor = string(*flavor, join(path, "flavor"), 255).value_or("");
    if (auto image = find(x, "image"))
      result.image = string(*image, join(path, "image"), 255).value_or("");
    std::optional<int> count;
    if (auto value = find(x, "count"))
      count = integer(*value, join(path, "count"), 0, max_group_count);
    result.count = count.value_or(0);
    if (auto value = find(x, "min_count")) {
      auto min_count = integer(*value, join(path, "min_count"), 0, max_group_count);
      // Compared with count only when count itself is valid.
      if (count) result.min_count = min_count;
    }
    if (auto volumes = find(x, "volumes")) {
      auto volumes_path = join(path, "volumes");
      if (!volumes->IsArray()) {
        error(volumes_path, "must be an array");
      } else if (volumes->Size() > 16) {
        error(volumes_path, "must have at most 16 items");
      } else {
        for (rapidjson::SizeType i = 0; i < volumes->Size(); ++i)
          result.volumes.push_back(volume((*volumes)[i], join(volumes_path, std::to_string(i))));
      }
    }
    return result;
  }

  network_spec network(const Value& x, const std::string& path) {
    network_spec result;
    if (!object(x, path)) return result;
    check_members(x, path, {"cidr", "subnets", "router", "external_network"}, {"cidr"});
    if (auto cidr = find(x, "cidr"))
      result.cidr = string(*cidr, join(path, "cidr"), 64).value_or("");
    if (auto subnets = find(x, "subnets")) {
      auto subnets_path = join(path, "subnets");
      if (object(*subnets, subnets_path)) {
        check_members(*subnets, subnets_path, {}, {});
        std::set<std::string_view> seen;
        for (auto i = subnets->MemberBegin(); i != subnets->MemberEnd(); ++i) {
          auto name = name_of(i->name);
          if (!seen.insert(name).second) continue;
          if (auto value = string(i->value, join(subnets_path, name), 64))
            result.subnets.emplace_back(std::string{name}, *value);
        }
      }
    }
    if (auto router = find(x, "router"))
      result.router = boolean(*router, join(path, "router")).value_or(true); // quiet, as above
    if (auto external = find(x, "external_network"))
      result.external_network = string(*external, join(path, "external_network"), 255).value_or("");
    return result;
  }

  template_spec root(const Value& x) {
    template_spec result;
    if (!object(x, "(body)")) return result;
    check_members(x, "", {"name", "description", "vm_config", "network_config"},
                  {"name", "vm_config", "network_config"});
    if (auto name = find(x, "name")) result.name = string(*name, "name", 63).value_or("");
    if (auto description = find(x, "description"))
      result.description = string(*description, "description", 1024).value_or("");
    if (auto vm_config = find(x, "vm_config")) {
      if (object(*vm_config, "vm_config")) {
        check_members(*vm_config, "vm_config", {}, {});
        std::set<std::string_view> seen;
        for (auto i = vm_config->MemberBegin(); i != vm_config->MemberEnd(); ++i) {
          auto name = name_of(i->name);
          if (seen.insert(name).second)
            result.vm_config.emplace_back(std::string{name},
                                          group(i->value, join("vm_config", name)));
        }
      }
    }
    if (auto net = find(x, "network_config"))
      result.network_config = network(*net, "network_config");
    return result;
  }

private:
  std::vector<field_error>& errors_;
};

/// `true` if a structural error at `outer` already explains a semantic error at `inner`.
bool covers(const std::string& outer, const std::string& inner) {
  if (outer == "(body)") return true;
  return inner == outer
         || (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0
             && inner[outer.size()] == '.');
}

/// Turns a JSON pointer such as `/vm_config/web/count` into `vm_config.web.count`.
std::string dotted(const rapidjson::Pointer& pointer) {
  std::string result;
  for (size_t i = 0; i < pointer.GetTokenCount(); ++i) {
    const auto& token = pointer.GetTokens()[i];
    result = join(result, std::string_view{token.name, token.length});
  }
  return result.empty() ? "(body)" : result;
}

std::string schema_message(std::string_view keyword) {
  if (keyword == "required") return "is missing a required field";
  if (keyword == "additionalProperties") return "has an unknown field";
  if (keyword == "type") return "has the wrong type";
  if (keyword == "minimum" || keyword == "maximum") return "is out of range";
  if (keyword == "minLength" || keyword == "maxLength") return "has the wrong length";
  if (keyword == "pattern") return "does not match the required pattern";
  if (keyword == "minProperties" || keyword == "maxItems") return "has the wrong number of entries";
  return "violates schema rule '" + std::string{keyword} + "'";
}

const rapidjson::SchemaDocument& template_schema() {
  static const rapidjson::SchemaDocument instance = [] {
    rapidjson::Document doc;
    auto text = embedded::template_schema_json;
    doc.Parse(text.data(), text.size());
    // The schema is ours and tested: failing to parse it is a build defect.
    if (doc.HasParseError()) std::abort();
    return rapidjson::SchemaDocument{doc};
  }();
  return instance;
}

std::string joined(const std::vector<field_error>& errors) {
  std::string result;
  for (const auto& e : errors) {
    if (!result.empty()) result += "; ";
    result += e.field;
    result += ' ';
    result += e.message;
  }
  return result;
}

void write_group(json_writer& out, const vm_group_spec& group) {
  out.begin_object();
  out.member("flavor", group.flavor);
  out.member("image", group.image);
  out.member("count", group.count);
  if (group.min_count) out.member("min_count", *group.min_count);
  if (!group.volumes.empty()) {
    out.key("volumes").begin_array();
    for (const auto& volume : group.volumes) {
      out.begin_object().member("size_gb", volume.size_gb);
      if (!volume.type.empty()) out.member("type", volume.type);
      out.end_object();
    }
    out.end_array();
  }
  out.end_object();
}

void write_vm_config(json_writer& out, const template_spec& spec) {
  out.begin_object();
  for (const auto& [name, group] : spec.vm_config) {
    out.key(name);
    write_group(out, group);
  }
  out.end_object();
}

void write_network_config(json_writer& out, const template_spec& spec) {
  const auto& net = spec.network_config;
  out.begin_object();
  out.member("cidr", net.cidr);
  out.key("subnets").begin_object();
  for (const auto& [name, cidr] : net.subnets) out.member(name, cidr);
  out.end_object();
  out.member("router", net.router);
  if (!net.external_network.empty()) out.member("external_network", net.external_network);
  out.end_object();
}

} // namespace

std::string_view template_schema_document() {
  return embedded::template_schema_json;
}

template_spec read_template(const rapidjson::Value& root, std::vector<field_error>& errors) {
  structure_reader reader{errors};
  return reader.root(root);
}

std::optional<field_error> schema_error(const rapidjson::Value& root) {
  rapidjson::SchemaValidator validator{template_schema()};
  if (root.Accept(validator)) return std::nullopt;
  return field_error{dotted(validator.GetInvalidDocumentPointer()),
                     schema_message(validator.GetInvalidSchemaKeyword())};
}

bool exceeds_json_depth(std::string_view json, int max_depth) noexcept {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (auto c : json) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}': --depth; break;
      default: break;
    }
  }
  return false;
}

request_error too_deep_error(int max_depth) {
  return request_error{errc::malformed_request,
                       "body nests arrays and objects deeper than " + std::to_string(max_depth)
                         + " levels",
                       {}};
}

std::variant<template_spec, request_error> parse_template(std::string_view body,
                                                          const template_limits& limits) {
  if (exceeds_json_depth(body)) return too_deep_error();
  rapidjson::Document doc;
  // Iterative: a body of nested brackets must not overflow the stack of a recursive descent.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError())
    return request_error{errc::malformed_request,
                         std::string{"body is not valid JSON: "}
                           + rapidjson::GetParseError_En(doc.GetParseError()) + " (at offset "
                           + std::to_string(doc.GetErrorOffset()) + ")",
                         {}};
  if (!doc.IsObject())
    return request_error{errc::malformed_request, "body must be a JSON object", {}};
  std::vector<field_error> errors;
  auto spec = read_template(doc, errors);
  auto structural = errors.size();
  for (auto& e : validate_template(spec, limits)) {
    auto explained = std::any_of(errors.begin(), errors.begin() + static_cast<long>(structural),
                                 [&](const field_error& s) { return covers(s.field, e.field); });
    if (!explained && std::find(errors.begin(), errors.end(), e) == errors.end())
      errors.push_back(std::move(e));
  }
  // The schema file is the published contract; if it refuses what the code accepted, the two
  // drifted apart, and the stricter one wins.
  if (errors.empty())
    if (auto e = schema_error(doc)) errors.push_back(std::move(*e));
  if (!errors.empty()) {
    auto detail = joined(errors);
    return request_error{errc::invalid_spec, std::move(detail), std::move(errors)};
  }
  return spec;
}

std::string to_json(const stored_template& x) {
  json_writer out;
  out.begin_object();
  out.member("id", to_string(x.id));
  out.member("name", x.spec.name);
  out.member("description", x.spec.description);
  out.key("vm_config");
  write_vm_config(out, x.spec);
  out.key("network_config");
  write_network_config(out, x.spec);
  out.member("created_at", to_rfc3339(x.created_at));
  out.member("updated_at", to_rfc3339(x.updated_at));
  out.end_object();
  return out.str();
}

std::string vm_config_json(const template_spec& spec) {
  json_writer out;
  write_vm_config(out, spec);
  return out.str();
}

std::string network_config_json(const template_spec& spec) {
  json_writer out;
  write_network_config(out, spec);
  return out.str();
}

caf::expected<template_spec> template_from_columns(std::string name, std::string description,
                                                   std::string_view vm_config,
                                                   std::string_view network_config) {
  rapidjson::Document root;
  root.SetObject();
  auto& alloc = root.GetAllocator();
  rapidjson::Document vm_doc{&alloc};
  rapidjson::Document net_doc{&alloc};
  vm_doc.Parse<rapidjson::kParseIterativeFlag>(vm_config.data(), vm_config.size());
  net_doc.Parse<rapidjson::kParseIterativeFlag>(network_config.data(), network_config.size());
  if (vm_doc.HasParseError())
    return make_error(errc::internal, "stored vm_config is not valid JSON");
  if (net_doc.HasParseError())
    return make_error(errc::internal, "stored network_config is not valid JSON");
  root.AddMember("name", Value{name.c_str(), static_cast<rapidjson::SizeType>(name.size()), alloc},
                 alloc);
  root.AddMember(
    "description",
    Value{description.c_str(), static_cast<rapidjson::SizeType>(description.size()), alloc}, alloc);
  root.AddMember("vm_config", Value{vm_doc, alloc}, alloc);
  root.AddMember("network_config", Value{net_doc, alloc}, alloc);
  std::vector<field_error> errors;
  auto spec = read_template(root, errors);
  if (!errors.empty())
    return make_error(errc::internal, "stored template is invalid: " + joined(errors));
  return spec;
}

} // namespace orch::schemas
