#include "orch/http/orphan_routes.hpp"

#include <string_view>
#include <utility>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "log.hpp"
#include "orch/http/problem.hpp"

namespace orch::http {

namespace {

using beast_http::status;
using beast_http::verb;

response problem_for(const caf::error& err, const request& req, const request_context& ctx) {
  return make_problem_response(to_problem(err),
                               std::string_view{req.target().data(), req.target().size()},
                               ctx.request_id, req.version());
}

} // namespace

std::string orphans_json(const std::vector<actors::orphan>& items) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto put = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (const auto& x : items) {
    w.StartObject();
    put("kind", to_string(x.kind));
    put("id", x.id);
    put("name", x.name);
    put("deployment_id", x.deployment_id);
    put("reason", to_string(x.reason));
    w.EndObject();
  }
  w.EndArray();
  w.Key("total");
  w.Uint64(items.size());
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

void add_orphan_routes(gateway& gw, actors::orphan_finder& finder) {
  gw.add_route(
    verb::get, "/orphans",
    [&finder](const request& req, const route_match&, request_context& ctx, responder respond) {
      finder.list([req, ctx, respond](caf::expected<std::vector<actors::orphan>> x) {
        if (!x) return respond(problem_for(x.error(), req, ctx));
        respond(make_json_response(status::ok, orphans_json(*x), req.version()));
      });
    });

  gw.add_route(
    verb::post, "/orphans/cleanup",
    [&finder](const request& req, const route_match&, request_context& ctx, responder respond) {
      auto request_id = ctx.request_id;
      finder.cleanup(
        [req, ctx, respond](caf::expected<std::vector<actors::orphan>> x) {
          if (!x) return respond(problem_for(x.error(), req, ctx));
          log()->info("[r:{}] orphan cleanup of {} resources accepted", ctx.request_id, x->size());
          respond(make_json_response(
            status::accepted, R"({"status":"accepted","count":)" + std::to_string(x->size()) + "}",
            req.version()));
        },
        [request_id](actors::orphan_cleanup_report report) {
          if (report.failed.empty()) return;
          log()->warn("[r:{}] orphan cleanup left {} resources: first {} {}: {}", request_id,
                      report.failed.size(), to_string(report.failed.front().first.kind),
                      report.failed.front().first.id, report.failed.front().second);
        });
    });
}

} // namespace orch::http
