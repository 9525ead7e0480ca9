#include "orch/errc.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace orch {

namespace {

constexpr caf::atom_value category = caf::atom("orch");

} // namespace

std::string to_string(errc x) {
  switch (x) {
    case errc::invalid_spec: return "invalid_spec";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::store_unavailable: return "store_unavailable";
    case errc::unauthenticated: return "unauthenticated";
    case errc::forbidden: return "forbidden";
    case errc::invalid_config: return "invalid_config";
    case errc::unavailable: return "unavailable";
    case errc::rate_limited: return "rate_limited";
    case errc::payload_too_large: return "payload_too_large";
    case errc::unsupported_media_type: return "unsupported_media_type";
    case errc::malformed_request: return "malformed_request";
    case errc::internal: return "internal";
    case errc::precondition_failed: return "precondition_failed";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string detail) {
  if (detail.empty()) return caf::error{static_cast<uint8_t>(code), category};
  return caf::error{static_cast<uint8_t>(code), category, caf::make_message(std::move(detail))};
}

// CAF 0.17.6's category() dereferences a null pointer on an empty error: test for it first.
std::string error_detail(const caf::error& err) {
  if (!err || err.category() != category) return {};
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
  return {};
}

bool is(const caf::error& err, errc code) {
  return err && err.category() == category && err.code() == static_cast<uint8_t>(code);
}

} // namespace orch
