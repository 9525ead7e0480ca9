#include "orch/openstack/errors.hpp"

#include <algorithm>
#include <cctype>

#include "json.hpp"
#include "orch/errc.hpp"
#include "orch/openstack/retry.hpp"

namespace orch::openstack {

namespace {

// Service messages can quote request data; a bound keeps logs and events small.
constexpr size_t max_message_length = 512;

std::string truncate(std::string text) {
  if (text.size() > max_message_length) {
    text.resize(max_message_length);
    text += "...";
  }
  return text;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a))
                                 == std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

/// What the error envelope says, whichever family it belongs to.
struct envelope {
  std::string code;
  std::string message;
  /// Nova/Cinder `overLimit.retryAfter`.
  std::string retry_after;
  bool parsed = false;
};

envelope read_envelope(std::string_view body) {
  envelope result;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || doc.MemberCount() == 0) {
    // Glance and proxies answer text or HTML: keep a printable excerpt.
    std::string text;
    for (char c : body.substr(0, max_message_length))
      text += std::isprint(static_cast<unsigned char>(c)) ? c : ' ';
    result.message = text;
    return result;
  }
  const auto& root = static_cast<const detail::json_value&>(doc);
  auto text_of = [](const detail::json_value& obj, const char* key) -> std::string {
    auto* x = detail::find(obj, key);
    if (x != nullptr && x->IsString()) return {x->GetString(), x->GetStringLength()};
    return {};
  };
  if (auto* neutron = detail::find(root, "NeutronError"); neutron && neutron->IsObject()) {
    result.code = text_of(*neutron, "type");
    result.message = text_of(*neutron, "message");
    result.parsed = true;
  } else if (auto* keystone = detail::find(root, "error"); keystone && keystone->IsObject()) {
    result.code = text_of(*keystone, "title");
    result.message = text_of(*keystone, "message");
    result.parsed = true;
  } else {
    // Nova and Cinder: {"<faultName>": {"code": N, "message": "..."}}.
    auto first = root.MemberBegin();
    if (first->value.IsObject()) {
      result.code = std::string{first->name.GetString(), first->name.GetStringLength()};
      result.message = text_of(first->value, "message");
      result.retry_after = text_of(first->value, "retryAfter");
      result.parsed = true;
    } else if (auto msg = text_of(root, "message"); !msg.empty()) {
      result.message = msg;
      result.parsed = true;
    }
  }
  return result;
}

os_error_kind kind_by_status(service svc, int status, const envelope& env,
                             const std::optional<std::chrono::milliseconds>& retry_after) {
  if (status >= 500) return status == 501 ? os_error_kind::bad_request : os_error_kind::transient;
  switch (status) {
    case 401: return os_error_kind::auth;
    case 403:
      // Nova reports quota as 403 `forbidden`; other 403s are policy (roles).
      return contains_ci(env.message, "quota") ? os_error_kind::quota : os_error_kind::auth;
    case 404: return os_error_kind::not_found;
    case 408: return os_error_kind::transient;
    case 409:
      if (svc == service::network && env.code == "OverQuota") return os_error_kind::quota;
      if (contains_ci(env.code, "quota") || contains_ci(env.message, "quota exceeded"))
        return os_error_kind::quota;
      return os_error_kind::conflict;
    case 412: return os_error_kind::conflict;
    case 413:
      // Cinder quota is 413 with `Retry-After: 0`; a positive delay means a rate limit.
      if (retry_after && retry_after->count() > 0) return os_error_kind::rate_limited;
      if (env.parsed) return os_error_kind::quota;
      return os_error_kind::bad_request;
    case 429: return os_error_kind::rate_limited;
    default: return os_error_kind::bad_request;
  }
}

} // namespace

std::string to_string(service x) {
  switch (x) {
    case service::identity: return "identity";
    case service::compute: return "compute";
    case service::network: return "network";
    case service::block_storage: return "block_storage";
    case service::image: return "image";
  }
  return "unknown";
}

std::string to_string(os_error_kind x) {
  switch (x) {
    case os_error_kind::transient: return "transient";
    case os_error_kind::rate_limited: return "rate_limited";
    case os_error_kind::conflict: return "conflict";
    case os_error_kind::not_found: return "not_found";
    case os_error_kind::quota: return "quota";
    case os_error_kind::bad_request: return "bad_request";
    case os_error_kind::auth: return "auth";
    case os_error_kind::outcome_unknown: return "outcome_unknown";
    case os_error_kind::endpoint_refused: return "endpoint_refused";
    case os_error_kind::circuit_open: return "circuit_open";
    case os_error_kind::malformed_response: return "malformed_response";
  }
  return "unknown";
}

std::string to_string(const os_error& x) {
  std::string result = to_string(x.kind);
  if (x.http_status != 0 || !x.code.empty()) {
    result += " (";
    if (x.http_status != 0) result += std::to_string(x.http_status);
    if (x.http_status != 0 && !x.code.empty()) result += ' ';
    result += x.code;
    result += ')';
  }
  if (!x.message.empty()) {
    result += ": ";
    result += x.message;
  }
  if (x.retry_after) result += " (retry after " + std::to_string(x.retry_after->count()) + " ms)";
  if (!x.request_id.empty()) result += " [" + x.request_id + "]";
  return result;
}

os_error classify(service svc, int status, const http_headers& headers, std::string_view body,
                  std::optional<timestamp> now) {
  auto env = read_envelope(body);
  std::optional<std::chrono::milliseconds> retry_after;
  std::optional<timestamp> reference = now;
  if (auto date = find_header(headers, "Date"))
    if (auto t = parse_http_date(*date)) reference = t;
  if (auto value = find_header(headers, "Retry-After"))
    retry_after = parse_retry_after(*value, reference);
  else if (!env.retry_after.empty())
    retry_after = parse_retry_after(env.retry_after, reference);
  os_error result;
  result.kind = kind_by_status(svc, status, env, retry_after);
  result.http_status = status;
  result.code = std::move(env.code);
  result.message
    = truncate(env.message.empty() ? "HTTP " + std::to_string(status) : std::move(env.message));
  if (retry_after && retry_after->count() > 0) result.retry_after = retry_after;
  if (auto id = find_header(headers, "x-openstack-request-id"))
    result.request_id = truncate(std::string{*id});
  return result;
}

os_error classify(const transport_failure& failure) {
  os_error result;
  result.kind = failure.error == transport_error::response_too_large ? os_error_kind::bad_request
                                                                     : os_error_kind::transient;
  result.code = to_string(failure.error);
  result.message = truncate(failure.detail.empty() ? to_string(failure.error) : failure.detail);
  return result;
}

caf::error to_caf_error(const os_error& err) {
  auto code = errc::internal;
  switch (err.kind) {
    case os_error_kind::transient:
    case os_error_kind::outcome_unknown:
    case os_error_kind::circuit_open: code = errc::unavailable; break;
    case os_error_kind::rate_limited: code = errc::rate_limited; break;
    case os_error_kind::conflict: code = errc::conflict; break;
    case os_error_kind::not_found: code = errc::not_found; break;
    case os_error_kind::quota: code = errc::forbidden; break;
    case os_error_kind::bad_request: code = errc::invalid_spec; break;
    case os_error_kind::auth: code = errc::unauthenticated; break;
    case os_error_kind::endpoint_refused: code = errc::invalid_config; break;
    case os_error_kind::malformed_response: code = errc::internal; break;
  }
  return make_error(code, to_string(err));
}

} // namespace orch::openstack
