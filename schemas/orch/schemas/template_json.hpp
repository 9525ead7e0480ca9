#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <caf/expected.hpp>
#include <rapidjson/document.h>

#include "orch/errc.hpp"
#include "orch/template_spec.hpp"
#include "orch/template_validation.hpp"

namespace orch::schemas {

/// Why a request body was refused, in the shape a problem+json answer needs.
struct request_error {
  /// `errc::malformed_request` (400: not JSON, not an object) or `errc::invalid_spec` (422).
  errc code = errc::invalid_spec;
  /// One line for the problem's `detail`.
  std::string detail;
  /// Every bad field, for the problem's `errors[]`; empty for a malformed body.
  std::vector<field_error> errors;
};

/// Deepest nesting of arrays and objects a request body may have; a template needs 5.
inline constexpr int max_json_depth = 32;

/// `true` if an array or object in `json` nests deeper than `max_depth` levels (the outermost
/// value is level 1). A linear scan that builds nothing, so that a hostile body is refused
/// before a document that deep exists. Brackets inside strings do not count.
bool exceeds_json_depth(std::string_view json, int max_depth = max_json_depth) noexcept;

/// The 400 for a body that `exceeds_json_depth`, naming the limit.
request_error too_deep_error(int max_depth = max_json_depth);

/// The JSON Schema (draft-04) of a template, as embedded at build time.
std::string_view template_schema_document();

/// Parses and validates a template body (API.md, "Templates"): JSON syntax, then structure
/// (types, ranges, required and unknown fields, as `template.schema.json` states), then the
/// semantic rules of `validate_template` with `limits`. Reports every bad field at once, each
/// field once per message, in document order. A body nested deeper than `max_json_depth` is
/// a `malformed_request`, refused before it is parsed.
std::variant<template_spec, request_error> parse_template(std::string_view body,
                                                          const template_limits& limits = {});

/// Structural checks and conversion of an already parsed template object; `errors` receives
/// every structural problem and the result holds whatever was well-formed. No semantic checks.
template_spec read_template(const rapidjson::Value& root, std::vector<field_error>& errors);

/// The first error RapidJSON's validator finds against `template.schema.json`, mapped to a
/// dotted field path and a message; `nullopt` if `root` conforms. RapidJSON 1.1 stops at the
/// first error, hence the separate structural checks of `read_template`.
std::optional<field_error> schema_error(const rapidjson::Value& root);

/// The API representation: `id`, `name`, `description`, `vm_config`, `network_config`,
/// `created_at`, `updated_at` (RFC 3339). Groups and subnets keep their order; `min_count`,
/// `volumes`, a volume's `type` and `external_network` are left out when absent or empty.
std::string to_json(const stored_template& x);

/// `vm_config` alone, as stored in a JSONB column.
std::string vm_config_json(const template_spec& spec);

/// `network_config` alone, as stored in a JSONB column.
std::string network_config_json(const template_spec& spec);

/// Rebuilds a template from its stored columns. Fails with `errc::internal` (a stored row that
/// does not parse is corruption, not a client error) naming every bad field.
caf::expected<template_spec> template_from_columns(std::string name, std::string description,
                                                   std::string_view vm_config,
                                                   std::string_view network_config);

} // namespace orch::schemas
