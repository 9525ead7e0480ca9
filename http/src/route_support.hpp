#pragma once

// Helpers the deployment and configuration routes share: problem answers, work on the blocking
// pool that always answers, and integer query parameters.

#include <charconv>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>

#include "log.hpp"
#include "orch/http/blocking_pool.hpp"
#include "orch/http/problem.hpp"
#include "orch/http/router.hpp"

namespace orch::http::routes {

inline std::string_view target_of(const request& req) {
  return {req.target().data(), req.target().size()};
}

inline response problem_for(const caf::error& err, const request& req, const request_context& ctx) {
  return make_problem_response(to_problem(err), target_of(req), ctx.request_id, req.version());
}

inline response problem_for(problem p, const request& req, const request_context& ctx) {
  return make_problem_response(p, target_of(req), ctx.request_id, req.version());
}

/// A 422 listing every field error, also joined into the detail.
inline response invalid_fields(std::vector<field_error> errors, const request& req,
                               const request_context& ctx) {
  std::string detail;
  for (const auto& e : errors) detail += (detail.empty() ? "" : "; ") + e.field + ": " + e.message;
  return problem_for(
    problem{beast_http::status::unprocessable_entity, std::move(detail), std::move(errors), {}},
    req, ctx);
}

/// Runs `work` on the pool. An exception escaping it would leave the request unanswered: it is
/// answered 500 instead (without its text, which may hold internals).
template <class F>
void run_answering(blocking_pool& pool, const request& req, const request_context& ctx,
                   responder respond, F work) {
  pool.run([target = std::string{target_of(req)}, request_id = ctx.request_id,
            version = req.version(), respond, work = std::move(work)]() mutable {
    try {
      work();
    } catch (const std::exception& ex) {
      log()->error("[r:{}] {} failed: {}", request_id, target, ex.what());
      respond(make_problem_response(problem{}, target, request_id, version));
    }
  });
}

/// An optional integer query parameter within [lo, hi]; a bad one is reported in `errors` and
/// gives `fallback`.
template <class Int>
Int read_int_param(const route_match& match, std::string_view name, Int fallback, Int lo, Int hi,
                   std::vector<field_error>& errors) {
  auto text = match.query_param(name);
  if (!text) return fallback;
  Int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value < lo || value > hi) {
    errors.push_back(
      {std::string{name},
       "must be an integer " + std::to_string(lo)
         + (hi == std::numeric_limits<Int>::max() ? " or more" : ".." + std::to_string(hi))});
    return fallback;
  }
  return value;
}

} // namespace orch::http::routes
