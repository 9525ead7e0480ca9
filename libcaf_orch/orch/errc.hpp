#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace orch {

/// Every expected failure of the domain, as one error category ("orch"). Values start at 1
/// and are never renumbered: nodes exchange them and `operation.error.code` shows their names.
enum class errc : uint8_t {
  /// A request or template failed schema or semantic validation.
  invalid_spec = 1,
  /// The named deployment, template or resource does not exist.
  not_found = 2,
  /// A name is taken, an epoch is stale, or the resource is busy or in the wrong state.
  conflict = 3,
  /// The database cannot be reached or refused the work; retry later.
  store_unavailable = 4,
  /// The caller presented no credential or an unknown one.
  unauthenticated = 5,
  /// The caller's credential does not allow the operation.
  forbidden = 6,
  /// A setting is missing or malformed.
  invalid_config = 7,
  /// A dependency (cloud, peer node) did not answer in time or failed transiently.
  unavailable = 8,
  /// The caller exceeded its rate limit.
  rate_limited = 9,
  /// The body is larger than the configured limit.
  payload_too_large = 10,
  /// The body is not of a supported media type.
  unsupported_media_type = 11,
  /// The body could not be parsed (not JSON, not an object).
  malformed_request = 12,
  /// An invariant was broken: a bug.
  internal = 13,
  /// The state changed since the version the request was based on (`If-Match`).
  precondition_failed = 14,
};

/// Stable snake_case name of `x`, as shown in `operation.error.code`.
std::string to_string(errc x);

/// Builds a `caf::error` of category "orch" carrying `code` and a human-readable `detail`.
/// Found by ADL, which is how CAF 0.17.6 converts an enum into `caf::error` (so a handler can
/// `return errc::conflict;`); its `CAF_ERROR_CODE_ENUM` would disable exactly that overload.
caf::error make_error(errc code, std::string detail = {});

/// The human-readable detail of an "orch" error made by `make_error`, or an empty string.
std::string error_detail(const caf::error& err);

/// `true` if `err` belongs to the "orch" category and carries `code`.
bool is(const caf::error& err, errc code);

} // namespace orch
