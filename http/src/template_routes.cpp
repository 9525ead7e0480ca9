#include "orch/http/template_routes.hpp"

#include <charconv>
#include <string>
#include <variant>

#include "orch/errc.hpp"
#include "orch/http/problem.hpp"
#include "orch/schemas/openapi.hpp"
#include "orch/schemas/template_json.hpp"

namespace orch::http {

namespace {

using beast_http::status;
using beast_http::verb;

constexpr int default_page_limit = 50;
constexpr int max_page_limit = 500;

std::string_view target_of(const request& req) {
  return {req.target().data(), req.target().size()};
}

response problem_for(const caf::error& err, const request& req, const request_context& ctx) {
  return make_problem_response(to_problem(err), target_of(req), ctx.request_id, req.version());
}

response problem_for(const schemas::request_error& err, const request& req,
                     const request_context& ctx) {
  problem p;
  p.status
    = err.code == errc::malformed_request ? status::bad_request : status::unprocessable_entity;
  p.detail = err.detail;
  p.errors = err.errors;
  return make_problem_response(p, target_of(req), ctx.request_id, req.version());
}

// Parses an optional non-negative integer query parameter within [lo, hi].
bool read_int_param(const route_match& match, std::string_view name, int fallback, int lo, int hi,
                    int& out, std::vector<field_error>& errors) {
  auto text = match.query_param(name);
  if (!text) {
    out = fallback;
    return true;
  }
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value < lo || value > hi) {
    errors.push_back(
      {std::string{name}, "must be an integer " + std::to_string(lo)
                            + (hi == INT32_MAX ? " or more" : ".." + std::to_string(hi))});
    return false;
  }
  out = value;
  return true;
}

std::string page_json(const persistence::page<stored_template>& page) {
  std::string out = "{\"items\":[";
  for (size_t i = 0; i < page.items.size(); ++i) {
    if (i > 0) out += ',';
    out += schemas::to_json(page.items[i]);
  }
  out += "],\"total\":" + std::to_string(page.total) + ",\"limit\":" + std::to_string(page.limit)
         + ",\"offset\":" + std::to_string(page.offset) + '}';
  return out;
}

} // namespace

void add_template_routes(gateway& gw, persistence::template_repository& repo, blocking_pool& pool,
                         template_limits limits) {
  gw.add_route(
    verb::post, "/templates",
    [&repo, &pool, limits](const request& req, const route_match&, request_context& ctx,
                           responder respond) {
      auto parsed = schemas::parse_template(req.body(), limits);
      if (auto* err = std::get_if<schemas::request_error>(&parsed))
        return respond(problem_for(*err, req, ctx));
      pool.run([&repo, spec = std::get<template_spec>(std::move(parsed)), req, ctx, respond] {
        auto stored = repo.create(spec);
        if (!stored) return respond(problem_for(stored.error(), req, ctx));
        auto res = make_json_response(status::created, schemas::to_json(*stored), req.version());
        res.set(beast_http::field::location, "/templates/" + to_string(stored->id));
        respond(std::move(res));
      });
    });

  gw.add_route(
    verb::get, "/templates",
    [&repo, &pool](const request& req, const route_match& match, request_context& ctx,
                   responder respond) {
      std::vector<field_error> errors;
      int limit = 0;
      int offset = 0;
      read_int_param(match, "limit", default_page_limit, 1, max_page_limit, limit, errors);
      read_int_param(match, "offset", 0, 0, INT32_MAX, offset, errors);
      if (!errors.empty()) {
        problem p{status::unprocessable_entity, "invalid query parameters", std::move(errors), {}};
        return respond(make_problem_response(p, target_of(req), ctx.request_id, req.version()));
      }
      pool.run([&repo, limit, offset, req, ctx, respond] {
        auto page = repo.list(limit, offset);
        if (!page) return respond(problem_for(page.error(), req, ctx));
        respond(make_json_response(status::ok, page_json(*page), req.version()));
      });
    });

  gw.add_route(verb::get, "/templates/{id_or_name}",
               [&repo, &pool](const request& req, const route_match& match, request_context& ctx,
                              responder respond) {
                 pool.run([&repo, key = std::string{match.param("id_or_name")}, req, ctx, respond] {
                   auto found = repo.find(key);
                   if (!found) return respond(problem_for(found.error(), req, ctx));
                   respond(make_json_response(status::ok, schemas::to_json(*found), req.version()));
                 });
               });

  gw.add_route(verb::put, "/templates/{id_or_name}",
               [&repo, &pool, limits](const request& req, const route_match& match,
                                      request_context& ctx, responder respond) {
                 auto parsed = schemas::parse_template(req.body(), limits);
                 if (auto* err = std::get_if<schemas::request_error>(&parsed))
                   return respond(problem_for(*err, req, ctx));
                 pool.run([&repo, key = std::string{match.param("id_or_name")},
                           spec = std::get<template_spec>(std::move(parsed)), req, ctx, respond] {
                   auto stored = repo.replace(key, spec);
                   if (!stored) return respond(problem_for(stored.error(), req, ctx));
                   respond(
                     make_json_response(status::ok, schemas::to_json(*stored), req.version()));
                 });
               });

  gw.add_route(verb::delete_, "/templates/{id_or_name}",
               [&repo, &pool](const request& req, const route_match& match, request_context& ctx,
                              responder respond) {
                 pool.run([&repo, key = std::string{match.param("id_or_name")}, req, ctx, respond] {
                   if (auto err = repo.remove(key)) return respond(problem_for(err, req, ctx));
                   response res{status::no_content, req.version()};
                   respond(std::move(res));
                 });
               });
}

void add_openapi_route(gateway& gw) {
  gw.add_route(verb::get, "/openapi.json",
               [](const request& req, const route_match&, request_context&, responder respond) {
                 respond(make_json_response(status::ok, std::string{schemas::openapi_document()},
                                            req.version()));
               });
}

} // namespace orch::http
