#include "orch/http/configuration_routes.hpp"

#include <charconv>
#include <limits>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "log.hpp"
#include "orch/ansible/playbook.hpp"
#include "orch/errc.hpp"
#include "orch/http/problem.hpp"
#include "orch/schemas/json_writer.hpp"
#include "route_support.hpp"

namespace orch::http {

namespace {

using namespace routes;
using status = beast_http::status;
using verb = beast_http::verb;

constexpr int default_page_limit = 50;
constexpr int max_page_limit = 500;

response not_found(std::string detail, const request& req, const request_context& ctx) {
  return problem_for(problem{status::not_found, std::move(detail), {}, {}}, req, ctx);
}

std::string compact(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> out{buf};
  value.Accept(out);
  return buf.GetString();
}

} // namespace

std::variant<actors::configure_request, schemas::request_error>
parse_configure_request(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return schemas::request_error{errc::malformed_request, "the body must be a JSON object", {}};
  actors::configure_request req;
  std::vector<field_error> errors;
  // Through a const reference: RapidJSON 1.1's mutable member iterators compare ambiguously
  // under C++20's reversed operators (clang's -Wambiguous-reversed-operator).
  const auto& root = doc;
  for (const auto& member : root.GetObject()) {
    std::string_view name{member.name.GetString(), member.name.GetStringLength()};
    const auto& value = member.value;
    if (name == "playbook") {
      if (!value.IsString()) {
        errors.push_back({"playbook", "must be a string"});
        continue;
      }
      req.playbook.assign(value.GetString(), value.GetStringLength());
      if (auto err = ansible::validate_playbook_name(req.playbook)) {
        auto detail = error_detail(err);
        auto colon = detail.find(": ");
        errors.push_back(
          {"playbook", colon == std::string::npos ? detail : detail.substr(colon + 2)});
      }
    } else if (name == "inventory") {
      if (value.IsNull()) continue;
      auto inv = value.IsObject() ? ansible::parse_inventory(compact(value)) : std::nullopt;
      if (!inv)
        errors.push_back({"inventory", "must be an object of arrays of host addresses"});
      else
        req.inventory = std::move(*inv);
    } else if (name == "extra_vars") {
      if (value.IsNull()) continue;
      if (!value.IsObject())
        errors.push_back({"extra_vars", "must be an object"});
      else
        req.extra_vars = compact(value);
    } else {
      errors.push_back({std::string{name}, "is not a known field"});
    }
  }
  if (!doc.HasMember("playbook")) errors.push_back({"playbook", "is required"});
  if (!errors.empty()) {
    std::string detail;
    for (const auto& e : errors)
      detail += (detail.empty() ? "" : "; ") + e.field + ": " + e.message;
    return schemas::request_error{errc::invalid_spec, std::move(detail), std::move(errors)};
  }
  return req;
}

std::string to_run_json(const persistence::configuration_run& run, bool with_output) {
  schemas::json_writer out;
  out.begin_object()
    .member("id", to_string(run.id))
    .member("deployment_id", to_string(run.deployment_id))
    .member("playbook", run.playbook)
    .key("inventory")
    .raw(ansible::to_json(run.inventory))
    .key("extra_vars")
    .raw(run.extra_vars)
    .member("status", to_string(run.status))
    .key("hosts")
    .begin_object();
  int changed = 0;
  for (const auto& h : run.hosts) {
    changed += h.changed;
    out.key(h.host)
      .begin_object()
      .member("ok", h.ok)
      .member("changed", h.changed)
      .member("failed", h.failed)
      .member("unreachable", h.unreachable)
      .member("skipped", h.skipped)
      .end_object();
  }
  out.end_object();
  out.member("changed", changed);
  out.key("failed_task");
  if (run.failed_task.empty())
    out.null();
  else
    out.value(run.failed_task);
  out.member("started_at", to_rfc3339(run.started_at));
  out.key("finished_at");
  if (run.finished_at)
    out.value(to_rfc3339(*run.finished_at));
  else
    out.null();
  if (with_output) out.member("output", run.output);
  out.end_object();
  return out.str();
}

void add_configuration_routes(gateway& gw, const configuration_routes_dependencies& deps) {
  auto& repo = deps.deployments;
  auto& runs = deps.runs;
  auto& pool = deps.blocking;
  auto& engine = deps.engine;

  gw.add_route(
    verb::post, "/deployments/{id}/configure",
    [&engine](const request& req, const route_match& match, request_context& ctx,
              responder respond) {
      auto id = uuid::parse(match.param("id"));
      if (!id)
        return respond(not_found("no deployment " + std::string{match.param("id")}, req, ctx));
      auto parsed = parse_configure_request(req.body());
      if (auto* err = std::get_if<schemas::request_error>(&parsed)) {
        auto code = err->code == errc::malformed_request ? status::bad_request
                                                         : status::unprocessable_entity;
        return respond(problem_for(problem{code, err->detail, err->errors, {}}, req, ctx));
      }
      auto body = std::get<actors::configure_request>(std::move(parsed));
      engine.configure(*id, std::move(body),
                       [req, ctx, respond](caf::expected<persistence::configuration_run> run) {
                         if (!run) return respond(problem_for(run.error(), req, ctx));
                         log()->info("[r:{}] [d:{}] configuration run {} accepted", ctx.request_id,
                                     to_string(run->deployment_id), to_string(run->id));
                         schemas::json_writer out;
                         out.begin_object()
                           .member("deployment_id", to_string(run->deployment_id))
                           .member("status", "CONFIGURING")
                           .member("run_id", to_string(run->id))
                           .end_object();
                         auto res = make_json_response(status::accepted, out.str(), req.version());
                         res.set(beast_http::field::location,
                                 "/deployments/" + to_string(run->deployment_id)
                                   + "/configurations/" + to_string(run->id));
                         respond(std::move(res));
                       });
    });

  gw.add_route(
    verb::get, "/deployments/{id}/configurations",
    [&repo, &runs, &pool](const request& req, const route_match& match, request_context& ctx,
                          responder respond) {
      auto id = uuid::parse(match.param("id"));
      if (!id)
        return respond(not_found("no deployment " + std::string{match.param("id")}, req, ctx));
      std::vector<field_error> errors;
      auto limit = read_int_param(match, "limit", default_page_limit, 1, max_page_limit, errors);
      auto offset = read_int_param(match, "offset", 0, 0, std::numeric_limits<int>::max(), errors);
      if (!errors.empty()) return respond(invalid_fields(std::move(errors), req, ctx));
      run_answering(pool, req, ctx, respond,
                    [&repo, &runs, id = *id, limit, offset, req, ctx, respond] {
                      if (auto rec = repo.get(id); !rec)
                        return respond(problem_for(rec.error(), req, ctx));
                      auto page = runs.list(id, limit, offset);
                      if (!page) return respond(problem_for(page.error(), req, ctx));
                      schemas::json_writer out;
                      out.begin_object().key("items").begin_array();
                      for (const auto& run : page->items) out.raw(to_run_json(run, false));
                      out.end_array()
                        .member("total", page->total)
                        .member("limit", limit)
                        .member("offset", offset)
                        .end_object();
                      respond(make_json_response(status::ok, out.str(), req.version()));
                    });
    });

  gw.add_route(
    verb::get, "/deployments/{id}/configurations/{run_id}",
    [&runs, &pool](const request& req, const route_match& match, request_context& ctx,
                   responder respond) {
      auto id = uuid::parse(match.param("id"));
      auto run_id = uuid::parse(match.param("run_id"));
      if (!id || !run_id)
        return respond(
          not_found("no configuration run " + std::string{match.param("run_id")}, req, ctx));
      run_answering(
        pool, req, ctx, respond, [&runs, id = *id, run_id = *run_id, req, ctx, respond] {
          auto run = runs.get(id, run_id);
          if (!run) return respond(problem_for(run.error(), req, ctx));
          respond(make_json_response(status::ok, to_run_json(*run, true), req.version()));
        });
    });
}

} // namespace orch::http
