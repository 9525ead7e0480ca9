#include "orch/schemas/deployment_json.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <functional>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "orch/errc.hpp"
#include "orch/schemas/json_writer.hpp"

namespace orch::schemas {

namespace {

using rapidjson::Value;

template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};

template <class... Fs>
overload(Fs...) -> overload<Fs...>;

// -- writing --------------------------------------------------------------------------------

void write_time(json_writer& out, std::string_view key, const std::optional<timestamp>& t) {
  out.key(key);
  if (t)
    out.value(to_rfc3339(*t));
  else
    out.null();
}

void write_id(json_writer& out, std::string_view key, const std::string& id) {
  out.key(key);
  if (id.empty())
    out.null();
  else
    out.value(id);
}

void write_strings(json_writer& out, std::string_view key, const std::vector<std::string>& xs) {
  out.key(key).begin_array();
  for (const auto& x : xs) out.value(x);
  out.end_array();
}

void write_error(json_writer& out, const std::optional<operation_error>& err) {
  out.key("error");
  if (!err) {
    out.null();
    return;
  }
  out.begin_object()
    .member("code", err->code)
    .member("message", err->message)
    .member("resource", err->resource)
    .end_object();
}

void write_operation(json_writer& out, const std::optional<operation_record>& op) {
  if (!op) {
    out.null();
    return;
  }
  out.begin_object().member("type", to_string(op->type)).member("status", to_string(op->status));
  write_time(out, "started_at", op->started_at);
  write_time(out, "finished_at", op->finished_at);
  write_error(out, op->error);
  out.end_object();
}

void write_parameters(json_writer& out, const deployment_parameters& params) {
  out.begin_object();
  for (const auto& [name, value] : params) {
    out.key(name);
    std::visit([&](const auto& x) { out.value(x); }, value);
  }
  out.end_object();
}

void write_subnet_ids(json_writer& out, const deployment_resources& res) {
  out.key("subnet_ids").begin_object();
  for (const auto& [name, id] : res.subnet_ids) out.member(name, id);
  out.end_object();
}

void write_api_resources(json_writer& out, const deployment_resources& res) {
  out.begin_object();
  write_id(out, "network_id", res.network_id);
  write_subnet_ids(out, res);
  write_id(out, "router_id", res.router_id);
  out.key("vm_ids").begin_array();
  for (const auto& vm : res.vms) out.value(vm.id);
  out.end_array();
  out.key("vms").begin_array();
  for (const auto& vm : res.vms) {
    out.begin_object()
      .member("id", vm.id)
      .member("name", vm.name)
      .member("group", vm.group)
      .member("status", vm.status)
      .member("flavor", vm.flavor);
    write_strings(out, "addresses", vm.addresses);
    write_strings(out, "volume_ids", vm.volume_ids);
    out.end_object();
  }
  out.end_array();
  out.key("volume_ids").begin_array();
  for (const auto& vol : res.volumes) out.value(vol.id);
  out.end_array();
  out.end_object();
}

void write_stored_resources(json_writer& out, const deployment_resources& res) {
  out.begin_object().member("network_id", res.network_id);
  write_subnet_ids(out, res);
  out.member("router_id", res.router_id).member("router_gateway", res.router_gateway);
  write_strings(out, "router_interfaces", res.router_interfaces);
  out.key("vms").begin_array();
  for (const auto& vm : res.vms) {
    out.begin_object()
      .member("id", vm.id)
      .member("name", vm.name)
      .member("group", vm.group)
      .member("index", vm.index)
      .member("status", vm.status)
      .member("flavor", vm.flavor)
      .member("image", vm.image);
    write_strings(out, "addresses", vm.addresses);
    write_strings(out, "volume_ids", vm.volume_ids);
    out.end_object();
  }
  out.end_array();
  out.key("volumes").begin_array();
  for (const auto& vol : res.volumes)
    out.begin_object()
      .member("id", vol.id)
      .member("name", vol.name)
      .member("vm", vol.vm)
      .member("size_gb", vol.size_gb)
      .member("status", vol.status)
      .member("attached", vol.attached)
      .end_object();
  out.end_array();
  out.end_object();
}

void write_template(json_writer& out, const template_spec& spec) {
  out.begin_object().member("name", spec.name).member("description", spec.description);
  out.key("vm_config").raw(vm_config_json(spec));
  out.key("network_config").raw(network_config_json(spec));
  out.end_object();
}

// A template in a jsonb document, which re-sorts object keys: groups and subnets are ordered,
// so their order goes along (`template_order`).
void write_ordered_template(json_writer& out, const template_spec& spec) {
  out.key("template");
  write_template(out, spec);
  out.key("template_order").begin_object();
  out.key("vm_config").begin_array();
  for (const auto& [name, group] : spec.vm_config) out.value(name);
  out.end_array().key("subnets").begin_array();
  for (const auto& [name, cidr] : spec.network_config.subnets) out.value(name);
  out.end_array().end_object();
}

void write_event_data(json_writer& out, const event_data& data) {
  out.begin_object();
  std::visit(overload{
               [&](const status_changed& x) {
                 out.member("from", to_string(x.from)).member("to", to_string(x.to));
               },
               [&](const operation_started& x) { out.member("type", to_string(x.type)); },
               [&](const operation_finished& x) {
                 out.member("status", to_string(x.status));
                 write_error(out, x.error);
               },
               [&](const intent_recorded& x) {
                 out.member("action", to_string(x.action))
                   .member("kind", to_string(x.kind))
                   .member("logical_name", x.logical_name)
                   .member("cloud_name", x.cloud_name);
                 write_strings(out, "tags", x.tags);
               },
               [&](const resource_created& x) {
                 out.member("kind", to_string(x.kind))
                   .member("logical_name", x.logical_name)
                   .member("cloud_name", x.cloud_name)
                   .member("id", x.id);
                 if (x.kind == resource_kind::server)
                   out.member("group", x.group)
                     .member("index", x.index)
                     .member("flavor", x.flavor)
                     .member("image", x.image)
                     .member("status", x.status);
                 if (x.kind == resource_kind::volume)
                   out.member("vm", x.vm).member("size_gb", x.size_gb).member("status", x.status);
               },
               [&](const resource_ready& x) {
                 out.member("kind", to_string(x.kind))
                   .member("logical_name", x.logical_name)
                   .member("status", x.status);
                 write_strings(out, "addresses", x.addresses);
               },
               [&](const resource_deleted& x) {
                 out.member("kind", to_string(x.kind))
                   .member("logical_name", x.logical_name)
                   .member("id", x.id);
               },
               [&](const retry_scheduled& x) {
                 out.member("resource", x.resource)
                   .member("attempt", x.attempt)
                   .member("reason", x.reason)
                   .member("delay_ms", x.delay_ms);
               },
               [&](const error_reported& x) {
                 out.member("code", x.error.code)
                   .member("message", x.error.message)
                   .member("resource", x.error.resource);
               },
               [&](const desired_changed& x) {
                 out.member("generation", x.generation);
                 out.key("parameters");
                 write_parameters(out, x.parameters);
                 write_ordered_template(out, x.spec);
               },
               [&](const resource_changed& x) {
                 out.member("kind", to_string(x.kind))
                   .member("logical_name", x.logical_name)
                   .member("status", x.status)
                   .member("flavor", x.flavor)
                   .member("image", x.image);
                 write_strings(out, "addresses", x.addresses);
               },
             },
             data);
  out.end_object();
}

// -- reading --------------------------------------------------------------------------------

/// Reads stored documents; remembers the first problem and hands out defaults after it.
class reader {
public:
  const Value* find(const Value& obj, const char* key) {
    if (!obj.IsObject()) {
      fail(key, "parent is not an object");
      return nullptr;
    }
    auto i = obj.FindMember(key);
    if (i == obj.MemberEnd()) {
      fail(key, "is missing");
      return nullptr;
    }
    return &i->value;
  }

  std::string str(const Value& obj, const char* key) {
    auto x = find(obj, key);
    if (x == nullptr) return {};
    if (!x->IsString()) return fail(key, "must be a string"), std::string{};
    return {x->GetString(), x->GetStringLength()};
  }

  /// A string, or empty when the member is null.
  std::string nullable_str(const Value& obj, const char* key) {
    auto x = find(obj, key);
    return x != nullptr && x->IsNull() ? std::string{} : str(obj, key);
  }

  int64_t int64(const Value& obj, const char* key) {
    auto x = find(obj, key);
    if (x == nullptr) return 0;
    if (!x->IsInt64()) return fail(key, "must be an integer"), 0;
    return x->GetInt64();
  }

  int integer(const Value& obj, const char* key) {
    auto x = find(obj, key);
    if (x == nullptr) return 0;
    if (!x->IsInt()) return fail(key, "must be an int"), 0;
    return x->GetInt();
  }

  bool boolean(const Value& obj, const char* key) {
    auto x = find(obj, key);
    if (x == nullptr) return false;
    if (!x->IsBool()) return fail(key, "must be a boolean"), false;
    return x->GetBool();
  }

  std::vector<std::string> strings(const Value& obj, const char* key) {
    std::vector<std::string> out;
    auto x = find(obj, key);
    if (x == nullptr) return out;
    if (!x->IsArray()) return fail(key, "must be an array"), out;
    for (const auto& item : x->GetArray()) {
      if (!item.IsString()) return fail(key, "must hold strings"), out;
      out.emplace_back(item.GetString(), item.GetStringLength());
    }
    return out;
  }

  template <class Enum>
  Enum enumeration(const Value& obj, const char* key,
                   std::optional<Enum> (*parse)(std::string_view)) {
    auto text = str(obj, key);
    auto x = parse(text);
    if (!x) return fail(key, "has an unknown value '" + text + "'"), Enum{};
    return *x;
  }

  std::optional<timestamp> time(const Value& obj, const char* key) {
    auto x = find(obj, key);
    if (x == nullptr || x->IsNull()) return std::nullopt;
    auto t = x->IsString() ? parse_rfc3339(x->GetString()) : std::nullopt;
    if (!t) fail(key, "must be an RFC 3339 time");
    return t;
  }

  std::optional<uuid> id(const Value& obj, const char* key) {
    auto text = nullable_str(obj, key);
    if (text.empty()) return std::nullopt;
    auto x = uuid::parse(text);
    if (!x) fail(key, "must be a UUID");
    return x;
  }

  void fail(std::string_view key, std::string_view why) {
    if (problem.empty()) problem = std::string{key} + " " + std::string{why};
  }

  template <class T>
  caf::expected<T> result(T value, std::string_view what) {
    if (!problem.empty())
      return make_error(errc::internal, "stored " + std::string{what} + ": " + problem);
    return value;
  }

  std::string problem;
};

std::string text_of(const Value& x) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buf};
  x.Accept(writer);
  return {buf.GetString(), buf.GetSize()};
}

bool parse_document(rapidjson::Document& doc, std::string_view json) {
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  return !doc.HasParseError();
}

std::optional<operation_error> read_error(reader& in, const Value& obj) {
  auto x = in.find(obj, "error");
  if (x == nullptr || x->IsNull()) return std::nullopt;
  return operation_error{in.str(*x, "code"), in.str(*x, "message"), in.str(*x, "resource")};
}

std::optional<operation_record> read_operation(reader& in, const Value& x) {
  if (x.IsNull()) return std::nullopt;
  operation_record op;
  op.type = in.enumeration(x, "type", &parse_operation_type);
  op.status = in.enumeration(x, "status", &parse_operation_status);
  op.started_at = in.time(x, "started_at").value_or(timestamp{});
  op.finished_at = in.time(x, "finished_at");
  op.error = read_error(in, x);
  return op;
}

deployment_parameters read_parameters(reader& in, const Value& x) {
  deployment_parameters out;
  if (!x.IsObject()) return in.fail("parameters", "must be an object"), out;
  for (auto i = x.MemberBegin(); i != x.MemberEnd(); ++i) {
    std::string name{i->name.GetString(), i->name.GetStringLength()};
    if (i->value.IsInt64())
      out.emplace(name, i->value.GetInt64());
    else if (i->value.IsString())
      out.emplace(name, std::string{i->value.GetString(), i->value.GetStringLength()});
    else
      in.fail("parameters." + name, "must be an integer or a string");
  }
  return out;
}

deployment_resources read_resources(reader& in, const Value& x) {
  deployment_resources res;
  res.network_id = in.str(x, "network_id");
  if (auto subnets = in.find(x, "subnet_ids"); subnets != nullptr && subnets->IsObject())
    for (auto i = subnets->MemberBegin(); i != subnets->MemberEnd(); ++i)
      res.subnet_ids[i->name.GetString()] = in.str(*subnets, i->name.GetString());
  res.router_id = in.str(x, "router_id");
  res.router_gateway = in.boolean(x, "router_gateway");
  res.router_interfaces = in.strings(x, "router_interfaces");
  if (auto vms = in.find(x, "vms"); vms != nullptr && vms->IsArray())
    for (const auto& v : vms->GetArray())
      res.vms.push_back(vm_record{in.str(v, "id"), in.str(v, "name"), in.str(v, "group"),
                                  in.integer(v, "index"), in.str(v, "status"), in.str(v, "flavor"),
                                  in.str(v, "image"), in.strings(v, "addresses"),
                                  in.strings(v, "volume_ids")});
  if (auto vols = in.find(x, "volumes"); vols != nullptr && vols->IsArray())
    for (const auto& v : vols->GetArray())
      res.volumes.push_back(volume_record{in.str(v, "id"), in.str(v, "name"), in.str(v, "vm"),
                                          in.integer(v, "size_gb"), in.str(v, "status"),
                                          in.boolean(v, "attached")});
  return res;
}

template_spec read_template_value(reader& in, const Value& x) {
  auto vm_config = in.find(x, "vm_config");
  auto network_config = in.find(x, "network_config");
  if (vm_config == nullptr || network_config == nullptr) return {};
  auto spec = template_from_columns(in.str(x, "name"), in.str(x, "description"),
                                    text_of(*vm_config), text_of(*network_config));
  if (!spec) return in.fail("template", error_detail(spec.error())), template_spec{};
  return std::move(*spec);
}

// Sorts name/value pairs into the order `names` lists; names not listed go last.
template <class T>
void restore_order(std::vector<std::pair<std::string, T>>& xs,
                   const std::vector<std::string>& names) {
  auto rank = [&](const std::string& name) {
    return std::find(names.begin(), names.end(), name) - names.begin();
  };
  std::stable_sort(xs.begin(), xs.end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
}

open_intent read_intent(reader& in, const Value& x) {
  return open_intent{in.enumeration(x, "kind", &parse_resource_kind), in.str(x, "logical_name"),
                     in.str(x, "cloud_name"), in.strings(x, "tags")};
}

template_spec read_ordered_template(reader& in, const Value& x) {
  template_spec spec;
  if (auto t = in.find(x, "template")) spec = read_template_value(in, *t);
  if (auto order = in.find(x, "template_order")) {
    restore_order(spec.vm_config, in.strings(*order, "vm_config"));
    restore_order(spec.network_config.subnets, in.strings(*order, "subnets"));
  }
  return spec;
}

resource_created read_created(reader& in, const Value& x) {
  resource_created ev;
  ev.kind = in.enumeration(x, "kind", &parse_resource_kind);
  ev.logical_name = in.str(x, "logical_name");
  ev.cloud_name = in.str(x, "cloud_name");
  ev.id = in.str(x, "id");
  if (ev.kind == resource_kind::server) {
    ev.group = in.str(x, "group");
    ev.index = in.integer(x, "index");
    ev.flavor = in.str(x, "flavor");
    ev.image = in.str(x, "image");
    ev.status = in.str(x, "status");
  } else if (ev.kind == resource_kind::volume) {
    ev.vm = in.str(x, "vm");
    ev.size_gb = in.integer(x, "size_gb");
    ev.status = in.str(x, "status");
  }
  return ev;
}

std::optional<event_data> read_event_data(reader& in, std::string_view type, const Value& x) {
  if (type == "status_changed")
    return status_changed{in.enumeration(x, "from", &parse_deployment_status),
                          in.enumeration(x, "to", &parse_deployment_status)};
  if (type == "operation_started")
    return operation_started{in.enumeration(x, "type", &parse_operation_type)};
  if (type == "operation_finished")
    return operation_finished{in.enumeration(x, "status", &parse_operation_status),
                              read_error(in, x)};
  if (type == "intent")
    return intent_recorded{in.enumeration(x, "action", &parse_intent_action),
                           in.enumeration(x, "kind", &parse_resource_kind),
                           in.str(x, "logical_name"), in.str(x, "cloud_name"),
                           in.strings(x, "tags")};
  if (type == "resource_created") return read_created(in, x);
  if (type == "resource_ready")
    return resource_ready{in.enumeration(x, "kind", &parse_resource_kind),
                          in.str(x, "logical_name"), in.str(x, "status"),
                          in.strings(x, "addresses")};
  if (type == "resource_changed")
    return resource_changed{in.enumeration(x, "kind", &parse_resource_kind),
                            in.str(x, "logical_name"),
                            in.str(x, "status"),
                            in.str(x, "flavor"),
                            in.str(x, "image"),
                            in.strings(x, "addresses")};
  if (type == "resource_deleted")
    return resource_deleted{in.enumeration(x, "kind", &parse_resource_kind),
                            in.str(x, "logical_name"), in.str(x, "id")};
  if (type == "retry")
    return retry_scheduled{in.str(x, "resource"), in.integer(x, "attempt"), in.str(x, "reason"),
                           in.int64(x, "delay_ms")};
  if (type == "error")
    return error_reported{{in.str(x, "code"), in.str(x, "message"), in.str(x, "resource")}};
  if (type == "desired_changed") {
    desired_changed ev;
    ev.generation = in.int64(x, "generation");
    if (auto p = in.find(x, "parameters")) ev.parameters = read_parameters(in, *p);
    ev.spec = read_ordered_template(in, x);
    return ev;
  }
  return std::nullopt;
}

// -- request checks -------------------------------------------------------------------------

bool is_valid_deployment_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || !std::islower(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::islower(u) || std::isdigit(u) || c == '-';
  });
}

/// Longest stored-template reference and region name.
constexpr rapidjson::SizeType max_reference_length = 255;

/// Longest parameter name: `<group>_<field>` with a group name of at most 32 characters.
constexpr size_t max_parameter_name_length = 64;

/// Sizes of an inline template are checked after its parameters are applied.
constexpr template_limits unlimited_size{INT_MAX, INT_MAX};

void read_request_template(const Value& x, create_deployment_request& req,
                           std::vector<field_error>& errors) {
  if (x.IsString() && x.GetStringLength() > max_reference_length) {
    errors.push_back(
      {"template", "must be at most " + std::to_string(max_reference_length) + " characters"});
    return;
  }
  if (x.IsString() && x.GetStringLength() > 0) {
    req.template_ref = std::string{x.GetString(), x.GetStringLength()};
    return;
  }
  if (!x.IsObject()) {
    errors.push_back({"template", "must be a template name or id, or a template object"});
    return;
  }
  // Sizes are checked once parameters are applied: they can shrink a template as well as grow it.
  auto parsed = parse_template(text_of(x), unlimited_size);
  if (auto spec = std::get_if<template_spec>(&parsed)) {
    req.template_ref = std::move(*spec);
    return;
  }
  for (auto& e : std::get<request_error>(parsed).errors)
    errors.push_back({"template." + e.field, e.message});
}

void read_request_member(std::string_view name, const Value& x, create_deployment_request& req,
                         std::vector<field_error>& errors) {
  if (name == "name") {
    if (x.IsString() && is_valid_deployment_name(x.GetString()))
      req.name = x.GetString();
    else
      errors.push_back({"name", "must be 1..63 lower-case letters, digits or '-', starting with "
                                "a letter"});
  } else if (name == "template") {
    read_request_template(x, req, errors);
  } else if (name == "cloud_region") {
    if (x.IsString() && x.GetStringLength() > max_reference_length)
      errors.push_back({"cloud_region",
                        "must be at most " + std::to_string(max_reference_length) + " characters"});
    else if (x.IsString() && x.GetStringLength() > 0)
      req.cloud_region = x.GetString();
    else
      errors.push_back({"cloud_region", "must be a non-empty string"});
  } else if (name == "parameters") {
    reader in;
    req.parameters = read_parameters(in, x);
    if (!in.problem.empty())
      errors.push_back({"parameters", "must be an object of integers and strings"});
    // Names are echoed in field paths; values are checked where they are applied.
    else if (std::any_of(req.parameters.begin(), req.parameters.end(),
                         [](const auto& p) { return p.first.size() > max_parameter_name_length; }))
      errors.push_back(
        {"parameters",
         "names must be at most " + std::to_string(max_parameter_name_length) + " characters"});
  } else {
    errors.push_back({std::string{name}, "unknown field"});
  }
}

} // namespace

// -- public API -------------------------------------------------------------------------------

std::string template_json(const template_spec& spec) {
  json_writer out;
  write_template(out, spec);
  return out.str();
}

caf::expected<template_spec> template_from_json(std::string_view json) {
  rapidjson::Document doc;
  if (!parse_document(doc, json) || !doc.IsObject())
    return make_error(errc::internal, "stored template is not a JSON object");
  reader in;
  auto spec = read_template_value(in, doc);
  return in.result(std::move(spec), "template");
}

std::string to_api_json(const deployment_record& x) {
  json_writer out;
  out.begin_object()
    .member("id", to_string(x.id))
    .member("name", x.name)
    .member("status", to_string(x.status));
  out.key("template");
  write_template(out, x.spec);
  out.key("parameters");
  write_parameters(out, x.parameters);
  out.member("cloud_region", x.cloud_region);
  out.key("resources");
  write_api_resources(out, x.resources);
  out.key("operation");
  write_operation(out, x.operation);
  write_time(out, "created_at", x.created_at);
  write_time(out, "updated_at", x.updated_at);
  write_time(out, "deleted_at", x.deleted_at);
  out.end_object();
  return out.str();
}

std::string to_create_response_json(const deployment_record& x) {
  json_writer out;
  out.begin_object()
    .member("id", to_string(x.id))
    .member("name", x.name)
    .member("status", to_string(x.status))
    .end_object();
  return out.str();
}

std::string to_list_json(const std::vector<deployment_record>& items, int64_t total, int limit,
                         int offset, const std::optional<std::string>& next) {
  json_writer out;
  out.begin_object().key("items").begin_array();
  for (const auto& item : items) out.raw(to_api_json(item));
  out.end_array().member("total", total).member("limit", limit).member("offset", offset);
  if (next) out.member("next", *next);
  out.end_object();
  return out.str();
}

std::string to_api_json(const deployment_event& x) {
  json_writer out;
  out.begin_object()
    .member("seq", x.seq)
    .member("at", to_rfc3339(x.at))
    .member("type", event_type(x.data));
  out.key("data");
  write_event_data(out, x.data);
  out.end_object();
  return out.str();
}

std::string event_data_json(const event_data& x) {
  json_writer out;
  write_event_data(out, x);
  return out.str();
}

caf::expected<event_data> event_data_from_json(std::string_view type, std::string_view data) {
  rapidjson::Document doc;
  if (!parse_document(doc, data) || !doc.IsObject())
    return make_error(errc::internal, "stored event data is not a JSON object");
  reader in;
  auto ev = read_event_data(in, type, doc);
  if (!ev)
    return make_error(errc::internal, "stored event has unknown type '" + std::string{type} + "'");
  return in.result(std::move(*ev), "event " + std::string{type});
}

std::string snapshot_json(const deployment_record& x) {
  json_writer out;
  out.begin_object()
    .member("id", to_string(x.id))
    .member("name", x.name)
    .member("status", to_string(x.status));
  write_ordered_template(out, x.spec);
  write_id(out, "template_id", x.template_id ? to_string(*x.template_id) : std::string{});
  out.key("parameters");
  write_parameters(out, x.parameters);
  out.member("cloud_region", x.cloud_region);
  out.key("resources");
  write_stored_resources(out, x.resources);
  out.key("operation");
  write_operation(out, x.operation);
  out.key("intents").begin_array();
  for (const auto& intent : x.intents) {
    out.begin_object()
      .member("kind", to_string(intent.kind))
      .member("logical_name", intent.logical_name)
      .member("cloud_name", intent.cloud_name);
    write_strings(out, "tags", intent.tags);
    out.end_object();
  }
  out.end_array();
  out.member("epoch", x.epoch);
  out.member("generation", x.generation);
  out.key("vm_high_water").begin_object();
  for (const auto& [group, high] : x.vm_high_water) out.member(group, high);
  out.end_object();
  write_time(out, "created_at", x.created_at);
  write_time(out, "updated_at", x.updated_at);
  write_time(out, "deleted_at", x.deleted_at);
  out.end_object();
  return out.str();
}

caf::expected<deployment_record> record_from_snapshot(std::string_view json) {
  rapidjson::Document doc;
  if (!parse_document(doc, json) || !doc.IsObject())
    return make_error(errc::internal, "stored snapshot is not a JSON object");
  reader in;
  deployment_record x;
  x.id = in.id(doc, "id").value_or(uuid{});
  x.name = in.str(doc, "name");
  x.status = in.enumeration(doc, "status", &parse_deployment_status);
  x.spec = read_ordered_template(in, doc);
  x.template_id = in.id(doc, "template_id");
  if (auto p = in.find(doc, "parameters")) x.parameters = read_parameters(in, *p);
  x.cloud_region = in.str(doc, "cloud_region");
  if (auto r = in.find(doc, "resources")) x.resources = read_resources(in, *r);
  if (auto op = in.find(doc, "operation")) x.operation = read_operation(in, *op);
  if (auto intents = in.find(doc, "intents"); intents != nullptr && intents->IsArray())
    for (const auto& i : intents->GetArray()) x.intents.push_back(read_intent(in, i));
  x.epoch = in.int64(doc, "epoch");
  // Snapshots written before updates existed have neither: generation 0, and the high-water
  // marks of what they hold (nothing of theirs was ever removed but by a delete).
  if (doc.HasMember("generation")) x.generation = in.int64(doc, "generation");
  if (doc.HasMember("vm_high_water")) {
    const auto& marks = doc["vm_high_water"];
    if (!marks.IsObject())
      in.fail("vm_high_water", "must be an object");
    else
      for (auto i = marks.MemberBegin(); i != marks.MemberEnd(); ++i)
        x.vm_high_water[i->name.GetString()] = in.integer(marks, i->name.GetString());
  } else {
    for (const auto& vm : x.resources.vms)
      x.vm_high_water[vm.group] = std::max(x.vm_high_water[vm.group], vm.index);
    for (const auto& intent : x.intents)
      if (intent.kind == resource_kind::server)
        if (auto vm = parse_vm_suffix(logical_suffix(intent.kind, intent.logical_name)))
          x.vm_high_water[vm->first] = std::max(x.vm_high_water[vm->first], vm->second);
  }
  x.created_at = in.time(doc, "created_at").value_or(timestamp{});
  x.updated_at = in.time(doc, "updated_at").value_or(timestamp{});
  x.deleted_at = in.time(doc, "deleted_at");
  return in.result(std::move(x), "snapshot");
}

std::string resources_json(const deployment_resources& x) {
  json_writer out;
  write_stored_resources(out, x);
  return out.str();
}

caf::expected<deployment_resources> resources_from_json(std::string_view json) {
  rapidjson::Document doc;
  if (!parse_document(doc, json) || !doc.IsObject())
    return make_error(errc::internal, "stored resources are not a JSON object");
  // A freshly created row holds `{}`.
  if (doc.ObjectEmpty()) return deployment_resources{};
  reader in;
  return in.result(read_resources(in, doc), "resources");
}

std::string operation_json(const std::optional<operation_record>& x) {
  json_writer out;
  write_operation(out, x);
  return out.str();
}

caf::expected<std::optional<operation_record>> operation_from_json(std::string_view json) {
  rapidjson::Document doc;
  if (!parse_document(doc, json)) return make_error(errc::internal, "stored operation is not JSON");
  reader in;
  return in.result(read_operation(in, doc), "operation");
}

std::string parameters_json(const deployment_parameters& x) {
  json_writer out;
  write_parameters(out, x);
  return out.str();
}

caf::expected<deployment_parameters> parameters_from_json(std::string_view json) {
  rapidjson::Document doc;
  if (!parse_document(doc, json))
    return make_error(errc::internal, "stored parameters are not JSON");
  reader in;
  return in.result(read_parameters(in, doc), "parameters");
}

namespace {

// Parses a request body into `doc`; a `malformed_request` if it is not a JSON object.
std::optional<request_error> parse_request_body(rapidjson::Document& doc, std::string_view body) {
  if (exceeds_json_depth(body)) return too_deep_error();
  if (!parse_document(doc, body))
    return request_error{errc::malformed_request,
                         std::string{"body is not valid JSON: "}
                           + rapidjson::GetParseError_En(doc.GetParseError()),
                         {}};
  if (!doc.IsObject())
    return request_error{errc::malformed_request, "body must be a JSON object", {}};
  return std::nullopt;
}

request_error invalid_fields(std::vector<field_error> errors) {
  std::string detail;
  for (const auto& e : errors) detail += (detail.empty() ? "" : "; ") + e.field + ": " + e.message;
  return request_error{errc::invalid_spec, std::move(detail), std::move(errors)};
}

} // namespace

std::variant<deployment_parameters, request_error> parse_update_deployment(std::string_view body) {
  rapidjson::Document doc;
  if (auto err = parse_request_body(doc, body)) return std::move(*err);
  std::vector<field_error> errors;
  create_deployment_request req;
  const auto& root = doc;
  for (auto i = root.MemberBegin(); i != root.MemberEnd(); ++i) {
    std::string_view name{i->name.GetString(), i->name.GetStringLength()};
    if (name == "parameters")
      read_request_member(name, i->value, req, errors);
    else
      errors.push_back({std::string{name}, "unknown field"});
  }
  if (!doc.HasMember("parameters")) errors.push_back({"parameters", "is required"});
  if (!errors.empty()) return invalid_fields(std::move(errors));
  return std::move(req.parameters);
}

std::variant<scale_request, request_error> parse_scale_request(std::string_view body) {
  rapidjson::Document doc;
  if (auto err = parse_request_body(doc, body)) return std::move(*err);
  std::vector<field_error> errors;
  scale_request req;
  const auto& root = doc;
  for (auto i = root.MemberBegin(); i != root.MemberEnd(); ++i) {
    std::string_view name{i->name.GetString(), i->name.GetStringLength()};
    const auto& x = i->value;
    if (name == "target_count") {
      if (x.IsInt64())
        req.target_count = x.GetInt64();
      else
        errors.push_back({"target_count", "must be an integer"});
    } else if (name == "vm_type") {
      if (x.IsString() && x.GetStringLength() > 0)
        req.vm_type = {x.GetString(), x.GetStringLength()};
      else
        errors.push_back({"vm_type", "must be a non-empty string"});
    } else {
      errors.push_back({std::string{name}, "unknown field"});
    }
  }
  for (auto required : {"target_count", "vm_type"})
    if (!doc.HasMember(required)) errors.push_back({required, "is required"});
  if (!errors.empty()) return invalid_fields(std::move(errors));
  return req;
}

std::string to_plan_json(const std::vector<planned_change>& changes, int64_t version) {
  json_writer out;
  out.begin_object().member("version", version).key("changes").begin_array();
  for (const auto& x : changes) {
    out.begin_object()
      .member("action", to_string(x.action))
      .member("resource", x.kind == resource_kind::volume ? "volume" : "vm")
      .member("name", x.cloud_name)
      .member("group", x.group);
    write_id(out, "from", x.from);
    write_id(out, "to", x.to);
    out.end_object();
  }
  out.end_array().end_object();
  return out.str();
}

std::variant<create_deployment_request, request_error>
parse_create_deployment(std::string_view body) {
  if (exceeds_json_depth(body)) return too_deep_error();
  rapidjson::Document doc;
  if (!parse_document(doc, body))
    return request_error{errc::malformed_request,
                         std::string{"body is not valid JSON: "}
                           + rapidjson::GetParseError_En(doc.GetParseError()),
                         {}};
  if (!doc.IsObject())
    return request_error{errc::malformed_request, "body must be a JSON object", {}};
  create_deployment_request req;
  std::vector<field_error> errors;
  // Const iterators: RapidJSON 1.1's mutable ones compare ambiguously under C++20's reversed
  // operators (clang's -Wambiguous-reversed-operator).
  const auto& root = doc;
  for (auto i = root.MemberBegin(); i != root.MemberEnd(); ++i)
    read_request_member({i->name.GetString(), i->name.GetStringLength()}, i->value, req, errors);
  for (auto required : {"name", "template", "cloud_region"})
    if (!doc.HasMember(required)) errors.push_back({required, "is required"});
  if (errors.empty()) return req;
  std::string detail;
  for (const auto& e : errors) detail += (detail.empty() ? "" : "; ") + e.field + ": " + e.message;
  return request_error{errc::invalid_spec, std::move(detail), std::move(errors)};
}

} // namespace orch::schemas
