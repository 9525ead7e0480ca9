#include "orch/http/cluster_routes.hpp"

#include <string_view>
#include <utility>

#include "orch/http/problem.hpp"

namespace orch::http {

void add_cluster_routes(gateway& gw, blocking_pool& blocking, cluster_describer describe) {
  gw.add_route(
    beast_http::verb::get, "/cluster",
    [&blocking, describe = std::move(describe)](const request& req, const route_match&,
                                                request_context& ctx, responder respond) {
      blocking.run([req, ctx, respond, describe] {
        auto body = describe();
        if (!body)
          return respond(make_problem_response(
            to_problem(body.error()), std::string_view{req.target().data(), req.target().size()},
            ctx.request_id, req.version()));
        respond(make_json_response(beast_http::status::ok, *body, req.version()));
      });
    });
}

} // namespace orch::http
