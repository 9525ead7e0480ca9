#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <caf/expected.hpp>

#include "orch/deployment/events.hpp"
#include "orch/deployment/model.hpp"
#include "orch/schemas/template_json.hpp"

namespace orch::schemas {

// -- API representations ----------------------------------------------------------------------

/// `GET /deployments/{id}` exactly as API.md shows it: `id`, `name`, `status`, `template`
/// (resolved), `parameters`, `cloud_region`, `resources` (`network_id`, `subnet_ids`,
/// `router_id`, `vm_ids`, `vms[]`, `volume_ids`), `operation` (`error` null unless failed; the
/// whole object null before the first operation), `created_at`, `updated_at`, `deleted_at`.
/// Times are RFC 3339; ids not yet known are null.
std::string to_api_json(const deployment_record& x);

/// One entry of `GET /deployments/{id}/events`: `{"seq", "at", "type", "data"}`.
std::string to_api_json(const deployment_event& x);

/// The 202 answer of `POST /deployments`: `{"id", "name", "status"}`.
std::string to_create_response_json(const deployment_record& x);

/// `GET /deployments`: `{"items", "total", "limit", "offset"}` with each item as
/// `to_api_json`, plus `"next"` (a keyset link such as `/deployments?after=<id>`) when given.
std::string to_list_json(const std::vector<deployment_record>& items, int64_t total, int limit,
                         int offset, const std::optional<std::string>& next = std::nullopt);

/// A resolved template as `{"name", "description", "vm_config", "network_config"}`.
std::string template_json(const template_spec& spec);

// -- stored forms -----------------------------------------------------------------------------

/// Rebuilds `template_json` (the `deployments.template` column, a `json` column that keeps
/// group and subnet order); `errc::internal`.
caf::expected<template_spec> template_from_json(std::string_view json);

/// The `data` column of an event (the type goes in its own column, see `event_type`).
std::string event_data_json(const event_data& x);

/// Rebuilds an event's data from its stored `type` and `data`; `errc::internal` if either
/// does not parse (stored rows are trusted: a bad one is corruption).
caf::expected<event_data> event_data_from_json(std::string_view type, std::string_view data);

/// A whole record (open intents included), as a snapshot row keeps it.
std::string snapshot_json(const deployment_record& x);

/// Rebuilds a record from `snapshot_json`; `errc::internal` naming the first bad field.
caf::expected<deployment_record> record_from_snapshot(std::string_view json);

/// The `resources` column: like the API form, plus what the state machine needs
/// (`router_gateway`, `router_interfaces`, VM `index`/`image`, `volumes[]`).
std::string resources_json(const deployment_resources& x);

/// Rebuilds `resources_json`; `errc::internal`.
caf::expected<deployment_resources> resources_from_json(std::string_view json);

/// The `operation` column; `null` when absent.
std::string operation_json(const std::optional<operation_record>& x);

/// Rebuilds `operation_json`; `errc::internal`.
caf::expected<std::optional<operation_record>> operation_from_json(std::string_view json);

/// The `parameters` column and API field: an object of integers and strings.
std::string parameters_json(const deployment_parameters& x);

/// Rebuilds `parameters_json`; `errc::internal`.
caf::expected<deployment_parameters> parameters_from_json(std::string_view json);

// -- requests ---------------------------------------------------------------------------------

/// A parsed `POST /deployments` body (API.md, "Create").
struct create_deployment_request {
  std::string name;
  /// A stored template's name or id, or an inline template.
  std::variant<std::string, template_spec> template_ref;
  std::string cloud_region;
  deployment_parameters parameters;
};

/// Parses and checks a `POST /deployments` body: `name` (1..63 characters: lower-case letters,
/// digits and `-`, starting with a letter), `template` (a name or id of at most 255
/// characters, or a template object checked like `POST /templates`), `cloud_region` (1..255
/// characters), optional `parameters` (an object of integers and strings, names of at most 64
/// characters); unknown members are refused. Every bad field is reported at once. A body nested
/// deeper than `max_json_depth` is a `malformed_request`, refused before it is parsed. Whether
/// the region is configured, the parameters fit the template and the result fits the size
/// limits is the caller's check (`apply_parameters`).
std::variant<create_deployment_request, request_error>
parse_create_deployment(std::string_view body);

/// Parses a `PATCH /deployments/{id}` body: `{"parameters": {...}}`, an object of integers and
/// strings (names of at most 64 characters), required; unknown members are refused. Whether
/// the parameters fit the template is the caller's check (`apply_parameters`).
std::variant<deployment_parameters, request_error> parse_update_deployment(std::string_view body);

/// A parsed `POST /deployments/{id}/scale` body.
struct scale_request {
  int64_t target_count = 0;
  std::string vm_type;
};

/// Parses a `POST /deployments/{id}/scale` body: `target_count` (an integer) and `vm_type` (a
/// string), both required; unknown members are refused. Whether the group exists and the
/// count fits it is the caller's check.
std::variant<scale_request, request_error> parse_scale_request(std::string_view body);

/// The answer of `PATCH /deployments/{id}?dry_run=true`: `{"version", "changes": [{"action",
/// "resource" (`vm` or `volume`), "name", "group", "from", "to"}]}`; `from` and `to` are the
/// old and new flavor (resize) or image (rebuild), else null.
std::string to_plan_json(const std::vector<planned_change>& changes, int64_t version);

} // namespace orch::schemas
