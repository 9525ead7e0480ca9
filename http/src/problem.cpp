#include "orch/http/problem.hpp"

#include <boost/beast/core/string.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <caf/atom.hpp>
#include <caf/sec.hpp>

#include "orch/errc.hpp"
#include "orch/http/request_id.hpp"

namespace orch::http {

namespace {

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& out, std::string_view text) {
  out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// RFC 9110 renamed two reason phrases that Beast 1.74 still spells the RFC 7231 way; API.md
// uses the new names.
std::string_view title_of(beast_http::status status) {
  switch (status) {
    case beast_http::status::payload_too_large: return "Content Too Large";
    case beast_http::status::unprocessable_entity: return "Unprocessable Content";
    default: {
      auto reason = beast_http::obsolete_reason(status);
      return {reason.data(), reason.size()};
    }
  }
}

} // namespace

response make_problem_response(const problem& p, std::string_view target,
                               std::string_view request_id, unsigned version) {
  auto instance = target.substr(0, target.find('?'));
  auto title = title_of(p.status);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> out{buffer};
  out.StartObject();
  out.Key("type");
  out.String("about:blank");
  out.Key("title");
  write_string(out, title);
  out.Key("status");
  out.Uint(static_cast<unsigned>(p.status));
  if (!p.detail.empty()) {
    out.Key("detail");
    write_string(out, p.detail);
  }
  if (!instance.empty()) {
    out.Key("instance");
    write_string(out, instance);
  }
  if (!request_id.empty()) {
    out.Key("request_id");
    write_string(out, request_id);
  }
  if (!p.errors.empty()) {
    out.Key("errors");
    out.StartArray();
    for (auto& err : p.errors) {
      out.StartObject();
      out.Key("field");
      write_string(out, err.field);
      out.Key("message");
      write_string(out, err.message);
      out.EndObject();
    }
    out.EndArray();
  }
  out.EndObject();
  response res{p.status, version};
  res.set(beast_http::field::content_type,
          boost::beast::string_view{problem_media_type.data(), problem_media_type.size()});
  for (auto& [name, value] : p.headers) res.set(name, value);
  res.body().assign(buffer.GetString(), buffer.GetSize());
  res.prepare_payload();
  return res;
}

response make_problem_response(beast_http::status status, std::string detail, const request& req,
                               const request_context& ctx) {
  problem p;
  p.status = status;
  p.detail = std::move(detail);
  auto target = req.target();
  return make_problem_response(p, std::string_view{target.data(), target.size()}, ctx.request_id,
                               req.version());
}

response make_json_response(beast_http::status status, std::string body, unsigned version) {
  response res{status, version};
  res.set(beast_http::field::content_type,
          boost::beast::string_view{json_media_type.data(), json_media_type.size()});
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response make_server_error_response(const server_error& err) {
  problem p;
  p.status = err.status;
  p.detail = err.reason;
  auto request_id = resolve_request_id(err.sent_request_id);
  if (err.status == beast_http::status::service_unavailable)
    p.headers.emplace_back(beast_http::field::retry_after,
                           std::to_string(unavailable_retry_after_seconds));
  auto res = make_problem_response(p, err.target, request_id, err.version);
  res.set("X-Request-ID", request_id);
  return res;
}

beast_http::status to_status(const caf::error& err) {
  using beast_http::status;
  if (err.category() == caf::atom("orch")) {
    switch (static_cast<orch::errc>(err.code())) {
      case orch::errc::invalid_spec: return status::unprocessable_entity;
      case orch::errc::not_found: return status::not_found;
      case orch::errc::conflict: return status::conflict;
      case orch::errc::store_unavailable: return status::service_unavailable;
      case orch::errc::unavailable: return status::service_unavailable;
      case orch::errc::unauthenticated: return status::unauthorized;
      case orch::errc::forbidden: return status::forbidden;
      case orch::errc::rate_limited: return status::too_many_requests;
      case orch::errc::payload_too_large: return status::payload_too_large;
      case orch::errc::unsupported_media_type: return status::unsupported_media_type;
      case orch::errc::malformed_request: return status::bad_request;
      case orch::errc::precondition_failed: return status::precondition_failed;
      case orch::errc::invalid_config:
      case orch::errc::internal: break;
    }
  } else if (err == caf::sec::request_timeout || err == caf::sec::request_receiver_down) {
    return status::service_unavailable;
  }
  return status::internal_server_error;
}

problem to_problem(const caf::error& err) {
  problem p;
  p.status = to_status(err);
  switch (p.status) {
    case beast_http::status::internal_server_error:
      p.detail = "an internal error occurred; the request id identifies it in the logs";
      break;
    case beast_http::status::service_unavailable:
      // Fixed texts: a store's or peer's own message may name hosts or credentials.
      p.detail = is(err, errc::store_unavailable)
                   ? "the database is unavailable; retry later"
                   : "a service this request needs is unavailable; retry later";
      p.headers.emplace_back(beast_http::field::retry_after,
                             std::to_string(unavailable_retry_after_seconds));
      break;
    case beast_http::status::unauthorized:
      p.detail = error_detail(err);
      p.headers.emplace_back(beast_http::field::www_authenticate, "Bearer");
      break;
    default: p.detail = error_detail(err);
  }
  return p;
}

} // namespace orch::http
