#include "orch/http/deployment_routes.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "log.hpp"
#include "orch/errc.hpp"
#include "orch/http/problem.hpp"
#include "orch/http/sse.hpp"
#include "orch/schemas/deployment_json.hpp"
#include "orch/schemas/json_writer.hpp"
#include "route_support.hpp"

namespace orch::http {

namespace {

using namespace routes;
using beast_http::status;
using beast_http::verb;

constexpr int default_page_limit = 50;
constexpr int max_page_limit = 500;
constexpr int max_event_limit = 1000;
constexpr std::size_t max_idempotency_key_length = 255;

// -- answers ----------------------------------------------------------------------------------

response unknown_deployment(std::string_view id, const request& req, const request_context& ctx) {
  return problem_for(problem{status::not_found, "no deployment " + std::string{id}, {}, {}}, req,
                     ctx);
}

// -- request helpers --------------------------------------------------------------------------

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

// Percent-encodes `text` for a query string value (RFC 3986 unreserved characters stay).
std::string query_escape(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (auto c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0x0f];
    }
  }
  return out;
}

// `nullopt` for a valid (or absent) key; otherwise why it is refused.
std::optional<std::string> check_idempotency_key(const request& req) {
  auto it = req.find("Idempotency-Key");
  if (it == req.end()) return std::nullopt;
  auto key = it->value();
  if (key.empty() || key.size() > max_idempotency_key_length)
    return "Idempotency-Key must be 1..255 characters";
  for (auto c : key)
    if (c < 0x20 || c > 0x7e) return "Idempotency-Key must consist of printable ASCII characters";
  return std::nullopt;
}

bool is_configured(const std::vector<std::string>& regions, const std::string& region) {
  return std::find(regions.begin(), regions.end(), region) != regions.end();
}

std::string accepted_json(const deployment_record& rec) {
  schemas::json_writer out;
  out.begin_object()
    .member("id", to_string(rec.id))
    .member("status", to_string(rec.status))
    .end_object();
  return out.str();
}

timestamp now_utc() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// The store may keep a replayed answer in a normalized form (PostgreSQL's jsonb adds spaces):
// send it compact again, as the first answer was. Text that does not parse is sent as stored.
std::string compact_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError()) return text;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
  doc.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

// -- POST /deployments ------------------------------------------------------------------------

struct create_context {
  persistence::deployment_repository& deployments;
  persistence::template_repository& templates;
  actors::deployment_engine& engine;
  std::vector<std::string> regions;
  template_limits limits;
};

void create_deployment(const create_context& cx, schemas::create_deployment_request body,
                       std::optional<persistence::idempotency_claim> claim, const request& req,
                       const request_context& ctx, const responder& respond) {
  std::vector<field_error> errors;
  template_spec base;
  std::optional<uuid> template_id;
  if (auto* ref = std::get_if<std::string>(&body.template_ref)) {
    auto found = cx.templates.find(*ref);
    if (found) {
      base = std::move(found->spec);
      template_id = found->id;
    } else if (is(found.error(), errc::not_found)) {
      errors.push_back({"template", "no stored template has the name or id '" + *ref + "'"});
    } else {
      return respond(problem_for(found.error(), req, ctx));
    }
  } else {
    base = std::get<template_spec>(std::move(body.template_ref));
  }
  if (!is_configured(cx.regions, body.cloud_region))
    errors.push_back({"cloud_region", "'" + body.cloud_region + "' is not a configured region"});
  std::optional<template_spec> spec;
  if (errors.empty() || errors.front().field != "template") {
    auto applied = apply_parameters(base, body.parameters, cx.limits);
    if (auto* bad = std::get_if<std::vector<field_error>>(&applied))
      errors.insert(errors.end(), bad->begin(), bad->end());
    else
      spec = std::get<template_spec>(std::move(applied));
  }
  if (!errors.empty()) return respond(invalid_fields(std::move(errors), req, ctx));

  deployment_record rec;
  rec.id = uuid::random();
  rec.name = body.name;
  rec.status = deployment_status::pending;
  rec.spec = std::move(*spec);
  rec.template_id = template_id;
  rec.parameters = std::move(body.parameters);
  rec.cloud_region = body.cloud_region;
  rec.created_at = rec.updated_at = now_utc();
  auto answer = schemas::to_create_response_json(rec);
  if (claim) {
    claim->response_status = static_cast<int>(status::accepted);
    claim->response_body = answer;
  }
  auto outcome = cx.deployments.create(rec, claim);
  if (!outcome) return respond(problem_for(outcome.error(), req, ctx));
  auto res = make_json_response(static_cast<status>(outcome->response_status),
                                outcome->replayed ? compact_json(outcome->response_body) : answer,
                                req.version());
  res.set(beast_http::field::location, "/deployments/" + to_string(outcome->deployment_id));
  if (outcome->replayed) {
    res.set("Idempotent-Replayed", "true");
    log()->info("[r:{}] [d:{}] create replayed for an Idempotency-Key", ctx.request_id,
                to_string(outcome->deployment_id));
    return respond(std::move(res));
  }
  log()->info("[r:{}] [d:{}] deployment '{}' created", ctx.request_id, to_string(rec.id), rec.name);
  // Started before answering, so a client that saw the 202 knows the work was handed over.
  cx.engine.start(rec.id);
  respond(std::move(res));
}

// -- GET /deployments -------------------------------------------------------------------------

// The filter of a listing, or every bad query parameter.
std::variant<persistence::deployment_filter, std::vector<field_error>>
read_filter(const route_match& match) {
  persistence::deployment_filter filter;
  std::vector<field_error> errors;
  if (auto text = match.query_param("status")) {
    if (auto parsed = parse_deployment_status(*text))
      filter.status = *parsed;
    else
      errors.push_back({"status", "must be one of PENDING, IN_PROGRESS, COMPLETED, FAILED, "
                                  "UPDATING, CONFIGURING, SCALING, DELETING, DELETED"});
  }
  if (auto text = match.query_param("name")) filter.name_prefix = std::string{*text};
  filter.limit = read_int_param(match, "limit", default_page_limit, 1, max_page_limit, errors);
  filter.offset = read_int_param(match, "offset", 0, 0, std::numeric_limits<int>::max(), errors);
  if (auto text = match.query_param("include_deleted")) {
    if (*text == "true")
      filter.include_deleted = true;
    else if (*text != "false")
      errors.push_back({"include_deleted", "must be true or false"});
  }
  if (auto text = match.query_param("after")) {
    if (auto id = uuid::parse(*text))
      filter.after = *id;
    else
      errors.push_back({"after", "must be a deployment id"});
  }
  if (!errors.empty()) return errors;
  return filter;
}

// The link to the page after `page`, keeping the filters; `nullopt` on the last page.
std::optional<std::string> next_link(const persistence::deployment_filter& filter,
                                     const persistence::page<deployment_record>& page) {
  if (page.items.empty() || static_cast<int>(page.items.size()) < filter.limit) return std::nullopt;
  if (!filter.after && filter.offset + filter.limit >= page.total) return std::nullopt;
  std::string link = "/deployments?after=" + to_string(page.items.back().id)
                     + "&limit=" + std::to_string(filter.limit);
  if (filter.status) link += "&status=" + to_string(*filter.status);
  if (!filter.name_prefix.empty()) link += "&name=" + query_escape(filter.name_prefix);
  if (filter.include_deleted) link += "&include_deleted=true";
  return link;
}

// -- PATCH /deployments/{id} and POST /deployments/{id}/scale ---------------------------------

// The strong ETag of a state version.
std::string etag_of(int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

// The version an `If-Match` header names: `nullopt` without the header, -1 if it names no
// version of ours (a list, a weak tag, `*`), which then matches none.
std::optional<int64_t> read_if_match(const request& req) {
  auto it = req.find(beast_http::field::if_match);
  if (it == req.end()) return std::nullopt;
  std::string_view text{it->value().data(), it->value().size()};
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  int64_t version = -1;
  if (text.size() < 3 || text.front() != '"' || text.back() != '"') return -1;
  auto digits = text.substr(1, text.size() - 2);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
  if (ec != std::errc{} || end != digits.data() + digits.size() || version < 0) return -1;
  return version;
}

struct change_context {
  persistence::deployment_repository& deployments;
  actors::deployment_engine& engine;
  template_limits limits;
};

// Resolves `params` merged over the deployment's parameters; the spec, or every bad field.
std::variant<std::pair<deployment_parameters, template_spec>, std::vector<field_error>>
resolve_change(const change_context& cx, const deployment_record& rec,
               const deployment_parameters& params) {
  auto merged = rec.parameters;
  for (const auto& [name, value] : params) merged[name] = value;
  auto applied = apply_parameters(rec.spec, merged, cx.limits);
  if (auto* bad = std::get_if<std::vector<field_error>>(&applied)) return std::move(*bad);
  auto spec = std::get<template_spec>(std::move(applied));
  return std::pair{std::move(merged), std::move(spec)};
}

// Hands a checked change to the engine and answers 202 with `body_of` the stored record.
void submit_change(const change_context& cx, const uuid& id, actors::deployment_change change,
                   const request& req, const request_context& ctx, const responder& respond,
                   std::function<std::string(const deployment_record&)> body_of) {
  auto type = change.type;
  cx.engine.update(id, std::move(change),
                   [req, ctx, respond, type, body_of](caf::expected<deployment_record> got) {
                     if (!got) return respond(problem_for(got.error(), req, ctx));
                     log()->info("[r:{}] [d:{}] {} accepted", ctx.request_id, to_string(got->id),
                                 to_string(type));
                     auto res = make_json_response(status::accepted, body_of(*got), req.version());
                     res.set(beast_http::field::etag, etag_of(got->last_seq));
                     respond(std::move(res));
                   });
}

void update_deployment(const change_context& cx, const uuid& id, deployment_parameters params,
                       bool dry_run, std::optional<int64_t> if_match, const request& req,
                       const request_context& ctx, const responder& respond) {
  auto rec = cx.deployments.get(id);
  if (!rec) return respond(problem_for(rec.error(), req, ctx));
  if (rec->status == deployment_status::deleted)
    return respond(unknown_deployment(to_string(id), req, ctx));
  auto resolved = resolve_change(cx, *rec, params);
  if (auto* errors = std::get_if<std::vector<field_error>>(&resolved))
    return respond(invalid_fields(std::move(*errors), req, ctx));
  auto& [merged, spec] = std::get<0>(resolved);
  if (dry_run) {
    if (if_match && *if_match != rec->last_seq)
      return respond(
        problem_for(make_error(errc::precondition_failed,
                               "deployment is at version " + std::to_string(rec->last_seq)),
                    req, ctx));
    auto preview = *rec;
    preview.spec = spec;
    auto res = make_json_response(
      status::ok, schemas::to_plan_json(plan_changes(preview), rec->last_seq), req.version());
    res.set(beast_http::field::etag, etag_of(rec->last_seq));
    return respond(std::move(res));
  }
  submit_change(cx, id, actors::deployment_change{operation_type::update, merged, spec, if_match},
                req, ctx, respond, accepted_json);
}

void scale_deployment(const change_context& cx, const uuid& id, schemas::scale_request body,
                      const request& req, const request_context& ctx, const responder& respond) {
  auto rec = cx.deployments.get(id);
  if (!rec) return respond(problem_for(rec.error(), req, ctx));
  if (rec->status == deployment_status::deleted)
    return respond(unknown_deployment(to_string(id), req, ctx));
  const auto& groups = rec->spec.vm_config;
  if (std::none_of(groups.begin(), groups.end(),
                   [&](const auto& g) { return g.first == body.vm_type; }))
    return respond(invalid_fields(
      {{"vm_type", "the deployment has no VM group '" + body.vm_type + "'"}}, req, ctx));
  auto count_param = body.vm_type + "_count";
  auto resolved = resolve_change(cx, *rec, {{count_param, body.target_count}});
  if (auto* errors = std::get_if<std::vector<field_error>>(&resolved)) {
    // The count is the only thing a scale changes: its problems are the target's.
    for (auto& e : *errors)
      if (e.field == "parameters." + count_param || e.field == "template.vm_config")
        e.field = "target_count";
    return respond(invalid_fields(std::move(*errors), req, ctx));
  }
  auto& [merged, spec] = std::get<0>(resolved);
  submit_change(cx, id, actors::deployment_change{operation_type::scale, merged, spec, {}}, req,
                ctx, respond, [](const deployment_record& got) {
                  schemas::json_writer out;
                  out.begin_object()
                    .member("deployment_id", to_string(got.id))
                    .member("status", to_string(got.status))
                    .end_object();
                  return out.str();
                });
}

std::string events_json(const std::vector<deployment_event>& events) {
  std::string out = "[";
  for (const auto& ev : events) {
    if (out.size() > 1) out += ',';
    out += schemas::to_api_json(ev);
  }
  out += ']';
  return out;
}

} // namespace

void add_deployment_routes(gateway& gw, const deployment_routes_dependencies& deps,
                           deployment_routes_config cfg) {
  auto& repo = deps.deployments;
  auto& pool = deps.blocking;
  auto& engine = deps.engine;
  auto create_cx = std::make_shared<const create_context>(
    create_context{deps.deployments, deps.templates, deps.engine, cfg.regions, cfg.limits});
  auto& feed = deps.events;
  auto change_cx = std::make_shared<const change_context>(
    change_context{deps.deployments, deps.engine, cfg.limits});

  gw.add_route(
    verb::post, "/deployments",
    [create_cx, &pool](const request& req, const route_match&, request_context& ctx,
                       responder respond) {
      if (auto why = check_idempotency_key(req))
        return respond(
          problem_for(problem{status::bad_request, std::move(*why), {}, {}}, req, ctx));
      auto parsed = schemas::parse_create_deployment(req.body());
      if (auto* err = std::get_if<schemas::request_error>(&parsed)) {
        auto code = err->code == errc::malformed_request ? status::bad_request
                                                         : status::unprocessable_entity;
        return respond(problem_for(problem{code, err->detail, err->errors, {}}, req, ctx));
      }
      std::optional<persistence::idempotency_claim> claim;
      if (auto it = req.find("Idempotency-Key"); it != req.end()) {
        claim.emplace();
        claim->key = std::string{it->value()};
        claim->owner = sha256_hex(ctx.principal);
        claim->request_hash = sha256_hex(req.body());
      }
      run_answering(pool, req, ctx, respond,
                    [create_cx, body = std::get<0>(std::move(parsed)), claim = std::move(claim),
                     req, ctx, respond]() mutable {
                      create_deployment(*create_cx, std::move(body), std::move(claim), req, ctx,
                                        respond);
                    });
    });

  gw.add_route(
    verb::get, "/deployments",
    [&repo, &pool](const request& req, const route_match& match, request_context& ctx,
                   responder respond) {
      auto read = read_filter(match);
      if (auto* errors = std::get_if<std::vector<field_error>>(&read))
        return respond(invalid_fields(std::move(*errors), req, ctx));
      run_answering(
        pool, req, ctx, respond,
        [&repo, filter = std::get<persistence::deployment_filter>(read), req, ctx, respond] {
          auto page = repo.list(filter);
          if (!page && filter.after && is(page.error(), errc::not_found))
            return respond(invalid_fields({{"after", "no deployment has this id"}}, req, ctx));
          if (!page) return respond(problem_for(page.error(), req, ctx));
          respond(make_json_response(status::ok,
                                     schemas::to_list_json(page->items, page->total, page->limit,
                                                           page->offset, next_link(filter, *page)),
                                     req.version()));
        });
    });

  gw.add_route(verb::get, "/deployments/{id}",
               [&repo, &pool](const request& req, const route_match& match, request_context& ctx,
                              responder respond) {
                 auto id = uuid::parse(match.param("id"));
                 if (!id) return respond(unknown_deployment(match.param("id"), req, ctx));
                 auto answer = [&req](const deployment_record& rec) {
                   auto res
                     = make_json_response(status::ok, schemas::to_api_json(rec), req.version());
                   res.set(beast_http::field::etag, etag_of(rec.last_seq));
                   return res;
                 };
                 // A fresh copy in memory answers on this I/O thread, without the hop to the pool
                 // and back.
                 if (auto rec = repo.cached(*id)) return respond(answer(*rec));
                 run_answering(pool, req, ctx, respond, [&repo, id = *id, req, ctx, respond] {
                   auto rec = repo.get(id);
                   if (!rec) return respond(problem_for(rec.error(), req, ctx));
                   auto res
                     = make_json_response(status::ok, schemas::to_api_json(*rec), req.version());
                   res.set(beast_http::field::etag, etag_of(rec->last_seq));
                   respond(std::move(res));
                 });
               });

  gw.add_route(
    verb::delete_, "/deployments/{id}",
    [&repo, &pool, &engine](const request& req, const route_match& match, request_context& ctx,
                            responder respond) {
      auto id = uuid::parse(match.param("id"));
      if (!id) return respond(unknown_deployment(match.param("id"), req, ctx));
      // The row answers 404 for a DELETED deployment whatever the engine knows.
      run_answering(pool, req, ctx, respond, [&repo, &engine, id = *id, req, ctx, respond] {
        auto rec = repo.get(id);
        if (!rec) return respond(problem_for(rec.error(), req, ctx));
        if (rec->status == deployment_status::deleted)
          return respond(unknown_deployment(to_string(id), req, ctx));
        engine.remove(id, [req, ctx, respond](caf::expected<deployment_record> got) {
          if (!got) return respond(problem_for(got.error(), req, ctx));
          log()->info("[r:{}] [d:{}] deletion accepted", ctx.request_id, to_string(got->id));
          respond(make_json_response(status::accepted, accepted_json(*got), req.version()));
        });
      });
    });

  gw.add_route(
    verb::patch, "/deployments/{id}",
    [change_cx, &pool](const request& req, const route_match& match, request_context& ctx,
                       responder respond) {
      auto id = uuid::parse(match.param("id"));
      if (!id) return respond(unknown_deployment(match.param("id"), req, ctx));
      bool dry_run = false;
      if (auto text = match.query_param("dry_run")) {
        if (*text == "true")
          dry_run = true;
        else if (*text != "false")
          return respond(invalid_fields({{"dry_run", "must be true or false"}}, req, ctx));
      }
      auto parsed = schemas::parse_update_deployment(req.body());
      if (auto* err = std::get_if<schemas::request_error>(&parsed)) {
        auto code = err->code == errc::malformed_request ? status::bad_request
                                                         : status::unprocessable_entity;
        return respond(problem_for(problem{code, err->detail, err->errors, {}}, req, ctx));
      }
      run_answering(pool, req, ctx, respond,
                    [change_cx, id = *id, params = std::get<0>(std::move(parsed)), dry_run,
                     if_match = read_if_match(req), req, ctx, respond]() mutable {
                      update_deployment(*change_cx, id, std::move(params), dry_run, if_match, req,
                                        ctx, respond);
                    });
    });

  gw.add_route(
    verb::post, "/deployments/{id}/scale",
    [change_cx, &pool](const request& req, const route_match& match, request_context& ctx,
                       responder respond) {
      auto id = uuid::parse(match.param("id"));
      if (!id) return respond(unknown_deployment(match.param("id"), req, ctx));
      auto parsed = schemas::parse_scale_request(req.body());
      if (auto* err = std::get_if<schemas::request_error>(&parsed)) {
        auto code = err->code == errc::malformed_request ? status::bad_request
                                                         : status::unprocessable_entity;
        return respond(problem_for(problem{code, err->detail, err->errors, {}}, req, ctx));
      }
      run_answering(
        pool, req, ctx, respond,
        [change_cx, id = *id, body = std::get<0>(std::move(parsed)), req, ctx, respond]() mutable {
          scale_deployment(*change_cx, id, std::move(body), req, ctx, respond);
        });
    });

  gw.add_route(
    verb::get, "/deployments/{id}/events",
    [&repo, &pool, &feed](const request& req, const route_match& match, request_context& ctx,
                          responder respond) {
      auto id = uuid::parse(match.param("id"));
      if (!id) return respond(unknown_deployment(match.param("id"), req, ctx));
      std::vector<field_error> errors;
      auto after = read_int_param<int64_t>(match, "after", 0, 0,
                                           std::numeric_limits<int64_t>::max(), errors);
      auto limit = read_int_param(match, "limit", max_event_limit, 1, max_event_limit, errors);
      if (!errors.empty()) return respond(invalid_fields(std::move(errors), req, ctx));
      if (!accepts_event_stream(req)) {
        return run_answering(
          pool, req, ctx, respond, [&repo, id = *id, after, limit, req, ctx, respond] {
            auto events = repo.events(id, after, limit);
            if (!events) return respond(problem_for(events.error(), req, ctx));
            respond(make_json_response(status::ok, events_json(*events), req.version()));
          });
      }
      // Refused here, on the I/O thread, before the database is asked anything.
      auto place = feed.reserve();
      if (!place) {
        log()->warn("[r:{}] [d:{}] event stream refused: {} streams open", ctx.request_id,
                    to_string(*id), feed.subscribers());
        return respond(problem_for(
          problem{
            status::service_unavailable,
            "too many event streams are open on this node; retry later",
            {},
            {{beast_http::field::retry_after, std::to_string(unavailable_retry_after_seconds)}}},
          req, ctx));
      }
      // A reconnecting client's Last-Event-ID wins over the `after` it first asked with.
      if (auto resume = last_event_id(req))
        after = static_cast<int64_t>(
          std::min<std::uint64_t>(*resume, std::numeric_limits<int64_t>::max()));
      auto held = std::make_shared<event_feed::slot>(std::move(*place));
      run_answering(
        pool, req, ctx, respond, [&repo, &feed, held, id = *id, after, req, ctx, respond] {
          auto rec = repo.get(id);
          if (!rec) return respond(problem_for(rec.error(), req, ctx));
          auto writer = respond.stream(make_sse_head(req));
          log()->debug("[r:{}] [d:{}] event stream opened after seq {}", ctx.request_id,
                       to_string(id), after);
          feed.subscribe(std::move(*held), id, after, rec->status == deployment_status::deleted,
                         std::move(writer), ctx.request_id);
        });
    });
}

} // namespace orch::http
