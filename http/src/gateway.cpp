#include "orch/http/gateway.hpp"

#include <exception>
#include <mutex>
#include <optional>

#include <boost/beast/core/string.hpp>
#include <prometheus/text_serializer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/logger.h>

#include "log.hpp"
#include "orch/errc.hpp"
#include "orch/http/content_type.hpp"
#include "orch/http/problem.hpp"
#include "orch/http/request_id.hpp"

namespace orch::http {

namespace {

std::string_view ssv(boost::beast::string_view x) {
  return {x.data(), x.size()};
}

boost::beast::string_view bsv(std::string_view x) {
  return {x.data(), x.size()};
}

bool has_body_method(beast_http::verb method) {
  return method == beast_http::verb::post || method == beast_http::verb::put
         || method == beast_http::verb::patch;
}

} // namespace

/// What the finishing hook needs to know about one request.
struct gateway::exchange {
  std::string request_id;
  std::string_view method;
  std::string path;
  std::string endpoint;
  std::string origin;
  std::optional<rate_decision> rate;
  std::chrono::steady_clock::time_point started;
};

gateway::gateway(gateway_config cfg, prometheus::Registry& registry, clock_function now)
  : auth_(cfg.keys), cors_(std::move(cfg.cors_origins)), limiter_(cfg.rate_limit_per_minute, now),
    auth_failures_(cfg.auth_failures_per_minute, now), now_(std::move(now)), registry_(registry),
    metrics_(registry) {
  using beast_http::verb;
  add_route(verb::get, "/health",
            [](const request& req, const route_match&, request_context&, responder respond) {
              respond(
                make_json_response(beast_http::status::ok, R"({"status":"ok"})", req.version()));
            });
  add_route(verb::get, "/health/ready",
            [this](const request& req, const route_match&, request_context& ctx,
                   responder respond) { serve_ready(req, ctx, std::move(respond)); });
  add_route(verb::get, "/metrics",
            [this](const request& req, const route_match&, request_context&, responder respond) {
              serve_metrics(req, std::move(respond));
            });
}

void gateway::add_route(beast_http::verb method, const std::string& pattern, route_handler fn) {
  router_.add(method, pattern, std::move(fn));
}

void gateway::add_readiness_check(std::string name, readiness_check check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

void gateway::set_keys(const std::vector<api_key>& keys) {
  auth_.set_keys(keys);
}

void gateway::set_stored_keys(const std::vector<hashed_api_key>& keys) {
  auth_.set_stored_keys(keys);
}

std::function<void()> gateway::connection_refused_counter() {
  return [this] { metrics_.connections_refused.Increment(); };
}

handler gateway::as_handler() {
  return [this](request&& req, const request_context& ctx, responder respond) {
    (*this)(std::move(req), ctx, std::move(respond));
  };
}

responder gateway::finish_with(responder respond, std::shared_ptr<const exchange> x) {
  return respond.with_hook([this, x = std::move(x)](response& res) {
    res.set("X-Request-ID", x->request_id);
    cors_.decorate(x->origin, res);
    if (x->rate) {
      res.set("RateLimit-Limit", std::to_string(x->rate->limit));
      res.set("RateLimit-Remaining", std::to_string(x->rate->remaining));
      res.set("RateLimit-Reset", std::to_string(x->rate->reset_seconds));
    }
    if (!res.body().empty() && res.find(beast_http::field::content_type) == res.end())
      res.set(beast_http::field::content_type, bsv(json_media_type));
    auto elapsed = std::chrono::duration<double>(now_() - x->started).count();
    metrics_.observe_request(x->endpoint, x->method, res.result_int(), elapsed);
    // The path only: a query string is the client's business, and never holds our keys.
    log()->info("[r:{}] {} {} {} {:.1f}ms", x->request_id, x->method, x->path, res.result_int(),
                elapsed * 1000.0);
  });
}

void gateway::operator()(request&& req, const request_context& ctx, responder respond) {
  auto x = std::make_shared<exchange>();
  x->started = now_();
  request_context c = ctx;
  c.request_id = resolve_request_id(ssv(req["X-Request-ID"]));
  x->request_id = c.request_id;
  auto method_name = beast_http::to_string(req.method());
  x->method = ssv(method_name);
  auto target = ssv(req.target());
  x->path = std::string{target.substr(0, target.find('?'))};
  x->origin = std::string{ssv(req[beast_http::field::origin])};
  auto match = router_.match(req.method(), target);
  x->endpoint = match.status == match_status::not_found ? "unmatched" : match.pattern;
  auto fail = [&](problem p) {
    auto res = make_problem_response(p, target, c.request_id, req.version());
    finish_with(std::move(respond), std::move(x))(std::move(res));
  };
  // CORS preflights carry no credentials, so they are answered before authentication.
  if (cors_policy::is_preflight(req)) {
    if (match.status == match_status::not_found)
      return fail({beast_http::status::not_found, "no resource at this path", {}, {}});
    auto allow = match.allow.empty() ? std::string{"OPTIONS"} : match.allow;
    auto res = cors_.preflight(req, allow);
    return finish_with(std::move(respond), std::move(x))(std::move(res));
  }
  if (!authenticator::is_open_route(req.method(), x->path)) {
    // Checked before the key, so that a guessing run learns nothing once it is blocked.
    if (auto wait = auth_failures_.blocked_for(c.remote_address); wait > 0) {
      metrics_.auth_blocked.Increment();
      problem p{beast_http::status::too_many_requests,
                "too many failed authentications from this address; retry later",
                {},
                {{beast_http::field::retry_after, std::to_string(wait)}}};
      return fail(std::move(p));
    }
    auto outcome = auth_.check(req);
    if (outcome.status == auth_status::missing || outcome.status == auth_status::unknown) {
      metrics_.auth_failures.Increment();
      if (auth_failures_.record_failure(c.remote_address))
        log()->warn("[r:{}] {} failed to authenticate {} times within a minute; refusing it "
                    "until the minute is over",
                    c.request_id, c.remote_address, auth_failures_.per_minute());
      problem p{beast_http::status::unauthorized,
                outcome.status == auth_status::missing ? "an API key is required"
                                                       : "the API key is not valid",
                {},
                {{beast_http::field::www_authenticate, "Bearer"}}};
      return fail(std::move(p));
    }
    c.principal = outcome.principal;
    c.can_write = outcome.can_write;
    x->rate = limiter_.take(c.principal);
    if (!x->rate->allowed) {
      problem p{beast_http::status::too_many_requests,
                "rate limit exceeded; retry later",
                {},
                {{beast_http::field::retry_after, std::to_string(x->rate->retry_after_seconds)}}};
      return fail(std::move(p));
    }
    if (outcome.status == auth_status::forbidden)
      return fail({beast_http::status::forbidden, "this API key may only read", {}, {}});
  }
  if (match.status == match_status::not_found)
    return fail({beast_http::status::not_found, "no resource at this path", {}, {}});
  if (match.status == match_status::method_not_allowed) {
    problem p{beast_http::status::method_not_allowed,
              "this resource does not support " + std::string{x->method},
              {},
              {{beast_http::field::allow, match.allow}}};
    return fail(std::move(p));
  }
  if (has_body_method(req.method()) && !req.body().empty()
      && !is_json_content_type(ssv(req[beast_http::field::content_type])))
    return fail({beast_http::status::unsupported_media_type,
                 "the request body must be application/json",
                 {},
                 {}});
  auto finish = finish_with(respond, x);
  try {
    (*match.handler)(req, match, c, finish);
  } catch (const std::exception& ex) {
    log()->error("[r:{}] route handler for {} threw: {}", c.request_id, match.pattern, ex.what());
    finish(make_problem_response(to_problem(make_error(errc::internal)), target, c.request_id,
                                 req.version()));
  } catch (...) {
    log()->error("[r:{}] route handler for {} threw", c.request_id, match.pattern);
    finish(make_problem_response(to_problem(make_error(errc::internal)), target, c.request_id,
                                 req.version()));
  }
}

void gateway::serve_ready(const request& req, request_context&, responder respond) {
  struct gathering {
    std::mutex mtx;
    std::size_t remaining = 0;
    std::vector<std::pair<std::string, std::optional<std::string>>> results;
    unsigned version = 11;
    responder respond;

    void finish() {
      auto ready = true;
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> out{buffer};
      out.StartObject();
      out.Key("checks");
      out.StartObject();
      for (auto& [name, failure] : results) {
        out.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
        if (!failure) {
          out.String("ok");
        } else {
          ready = false;
          out.String(failure->c_str(), static_cast<rapidjson::SizeType>(failure->size()));
        }
      }
      out.EndObject();
      out.Key("status");
      out.String(ready ? "ready" : "not_ready");
      out.EndObject();
      auto status = ready ? beast_http::status::ok : beast_http::status::service_unavailable;
      auto res
        = make_json_response(status, std::string{buffer.GetString(), buffer.GetSize()}, version);
      if (!ready)
        res.set(beast_http::field::retry_after, std::to_string(unavailable_retry_after_seconds));
      respond(std::move(res));
    }
  };
  auto state = std::make_shared<gathering>();
  state->remaining = checks_.size();
  state->version = req.version();
  state->respond = std::move(respond);
  for (auto& [name, check] : checks_) state->results.emplace_back(name, std::string{"no answer"});
  if (checks_.empty()) return state->finish();
  for (std::size_t i = 0; i < checks_.size(); ++i) {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto done = [state, i, answered](bool ok, std::string detail) {
      if (answered->exchange(true)) return;
      std::unique_lock guard{state->mtx};
      if (ok)
        state->results[i].second.reset();
      else
        state->results[i].second = detail.empty() ? std::string{"failed"} : std::move(detail);
      if (--state->remaining == 0) {
        guard.unlock();
        state->finish();
      }
    };
    try {
      checks_[i].second(done);
    } catch (const std::exception& ex) {
      done(false, "check failed");
      log()->error("readiness check {} threw: {}", checks_[i].first, ex.what());
    }
  }
}

void gateway::serve_metrics(const request& req, responder respond) {
  prometheus::TextSerializer serializer;
  response res{beast_http::status::ok, req.version()};
  res.set(beast_http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = serializer.Serialize(registry_.Collect());
  respond(std::move(res));
}

} // namespace orch::http
