// Bytes as the body of POST /templates and POST /deployments: JSON syntax, the JSON Schema,
// the structural and semantic checks and the conversion to the domain (schemas/src). The
// first byte picks the endpoint. What is accepted must survive the round trips the
// orchestrator relies on: API form -> parse, and the stored columns -> rebuild.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <rapidjson/document.h>

#include "fuzz_support.hpp"
#include "orch/deployment/model.hpp"
#include "orch/schemas/deployment_json.hpp"
#include "orch/schemas/template_json.hpp"
#include "orch/template_validation.hpp"

namespace {

// A refusal names a status class and, for 422, at least one field.
void check_refusal(const orch::schemas::request_error& err) {
  ORCH_FUZZ_ASSERT(err.code == orch::errc::malformed_request
                   || err.code == orch::errc::invalid_spec);
  ORCH_FUZZ_ASSERT(!err.detail.empty());
  if (err.code == orch::errc::invalid_spec) ORCH_FUZZ_ASSERT(!err.errors.empty());
  for (const auto& e : err.errors) ORCH_FUZZ_ASSERT(!e.message.empty());
}

// Accepted blocks are an address and a prefix, nothing else: they go to Neutron verbatim.
bool is_block_text(const std::string& text) {
  return text.find_first_not_of("0123456789abcdefABCDEF:./") == std::string::npos;
}

// What the orchestrator writes for an accepted template reads back as the same template.
void check_template_round_trips(const orch::template_spec& spec) {
  ORCH_FUZZ_ASSERT(orch::validate_template(spec).empty());
  ORCH_FUZZ_ASSERT(is_block_text(spec.network_config.cidr));
  for (const auto& [name, block] : spec.network_config.subnets)
    ORCH_FUZZ_ASSERT(is_block_text(block));
  auto api = orch::schemas::template_json(spec);
  auto again = orch::schemas::parse_template(api);
  ORCH_FUZZ_ASSERT(std::holds_alternative<orch::template_spec>(again));
  ORCH_FUZZ_ASSERT(orch::is_same_template(spec, std::get<orch::template_spec>(again)));
  auto stored = orch::schemas::template_from_json(api);
  ORCH_FUZZ_ASSERT(stored && orch::is_same_template(spec, *stored));
  auto columns = orch::schemas::template_from_columns(spec.name, spec.description,
                                                      orch::schemas::vm_config_json(spec),
                                                      orch::schemas::network_config_json(spec));
  ORCH_FUZZ_ASSERT(columns && orch::is_same_template(spec, *columns));
}

void fuzz_template(std::string_view body) {
  auto parsed = orch::schemas::parse_template(body);
  if (auto* err = std::get_if<orch::schemas::request_error>(&parsed)) return check_refusal(*err);
  check_template_round_trips(std::get<orch::template_spec>(parsed));
}

void fuzz_deployment(std::string_view body) {
  auto parsed = orch::schemas::parse_create_deployment(body);
  if (auto* err = std::get_if<orch::schemas::request_error>(&parsed)) return check_refusal(*err);
  auto& req = std::get<orch::schemas::create_deployment_request>(parsed);
  ORCH_FUZZ_ASSERT(!req.name.empty() && !req.cloud_region.empty());
  auto params = orch::schemas::parameters_json(req.parameters);
  auto params_back = orch::schemas::parameters_from_json(params);
  ORCH_FUZZ_ASSERT(params_back && *params_back == req.parameters);
  if (auto* spec = std::get_if<orch::template_spec>(&req.template_ref)) {
    check_template_round_trips(*spec);
    // The gateway applies the parameters to the inline template next; what it accepts is
    // still a valid template.
    auto applied = orch::apply_parameters(*spec, req.parameters, orch::template_limits{});
    if (auto* result = std::get_if<orch::template_spec>(&applied))
      ORCH_FUZZ_ASSERT(orch::validate_template(*result).empty());
    else
      ORCH_FUZZ_ASSERT(!std::get<std::vector<orch::field_error>>(applied).empty());
  } else {
    ORCH_FUZZ_ASSERT(!std::get<std::string>(req.template_ref).empty());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto body = orch::fuzz::as_text(data + 1, size - 1);
  if (data[0] & 1)
    fuzz_deployment(body);
  else
    fuzz_template(body);
  return 0;
}
