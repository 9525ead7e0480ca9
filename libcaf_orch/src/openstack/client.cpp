#include "orch/openstack/client.hpp"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

#include "orch/config.hpp"
#include "orch/openstack/governor.hpp"
#include "orch/openstack/requests.hpp"
#include "orch/openstack/responses.hpp"
#include "orch/openstack/url.hpp"

namespace orch::openstack {

namespace {

using std::chrono::milliseconds;

constexpr size_t service_count = 5;

size_t index_of(service svc) {
  return static_cast<size_t>(svc);
}

bool is_success(int status) {
  return status >= 200 && status < 300;
}

os_error make(os_error_kind kind, std::string code, std::string message) {
  return os_error{kind, 0, std::move(code), std::move(message), std::nullopt, {}};
}

/// Replaces every occurrence of `secret` in `text`. Secrets shorter than 4 characters are
/// left alone: redacting them would shred every message, and Keystone's own texts are
/// replaced wholesale anyway.
void redact(std::string& text, const std::string& secret) {
  if (secret.size() < 4) return;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 10))
    text.replace(pos, secret.size(), "[redacted]");
}

/// `path` without its query, followed by the query of the `next` link. Following the link's
/// query rather than its host keeps every page on the catalog endpoint the allowlist
/// admitted, while preserving the filters and the marker exactly as the service wrote them.
std::optional<std::string> next_path(const std::string& path, const std::string& next) {
  auto question = next.find('?');
  if (question == std::string::npos || question + 1 == next.size()) return std::nullopt;
  auto base = path.substr(0, path.find('?'));
  return base + next.substr(question);
}

std::string with_query(std::string path, const std::string& query) {
  if (!query.empty()) {
    path += '?';
    path += query;
  }
  return path;
}

} // namespace

client_config make_client_config(const orch::openstack_config& cfg) {
  client_config result;
  result.credentials.auth_url = cfg.auth_url;
  result.credentials.username = cfg.username;
  result.credentials.password = cfg.password;
  result.credentials.user_domain_name = cfg.user_domain_name;
  result.credentials.project_name = cfg.project_name;
  result.credentials.project_domain_name = cfg.project_domain_name;
  result.region = cfg.region;
  result.endpoint_allowlist = cfg.endpoint_allowlist;
  return result;
}

// -- observer -------------------------------------------------------------------------------

std::string status_label(const call_report& report) {
  if (report.status != 0) return std::to_string(report.status);
  if (report.transport) return to_string(*report.transport);
  if (report.error) return to_string(*report.error);
  return "unknown";
}

client_observer::~client_observer() {
  // nop
}

void client_observer::on_call(const call_report&) {
  // nop
}

void client_observer::on_retry(service, const os_error&, milliseconds) {
  // nop
}

void client_observer::on_breaker_change(service, breaker_state) {
  // nop
}

void client_observer::on_authenticated(bool) {
  // nop
}

// -- implementation -------------------------------------------------------------------------

struct client::impl : std::enable_shared_from_this<impl> {
  using token_ptr = std::shared_ptr<const auth_token>;
  using token_waiter = std::function<void(result<token_ptr>)>;

  /// One logical call across its attempts.
  struct request {
    service svc = service::compute;
    std::string method;
    std::string path;
    std::string body;
    std::string action;
    bool idempotent = true;
    callback<http_result> cb;
    clock::time_point started{};
    /// Attempts sent (or refused by the breaker), replays after a 401 included.
    int attempts = 0;
    /// Replays after a 401; at most one.
    int replays = 0;
  };

  using request_ptr = std::shared_ptr<request>;

  impl(client_config config, http_transport& transport_port, timer& timer_port, clock& clock_port,
       random_source random_fn, client_observer* observer_ptr)
    : cfg(std::move(config)), transport(transport_port), tmr(timer_port), clk(clock_port),
      random(std::move(random_fn)), observer(observer_ptr),
      allowlist(cfg.endpoint_allowlist, cfg.credentials.auth_url),
      gov(cfg.max_in_flight), breakers{circuit_breaker{cfg.breaker}, circuit_breaker{cfg.breaker},
                                       circuit_breaker{cfg.breaker}, circuit_breaker{cfg.breaker},
                                       circuit_breaker{cfg.breaker}} {
    // nop
  }

  client_config cfg;
  http_transport& transport;
  timer& tmr;
  clock& clk;
  random_source random;
  client_observer* observer;
  endpoint_allowlist allowlist;
  governor gov;
  std::array<circuit_breaker, service_count> breakers;

  token_ptr token;
  clock::time_point refresh_at{};
  bool auth_in_flight = false;
  bool auth_forced = false;
  std::vector<token_waiter> auth_waiters;

  std::weak_ptr<impl> weak() { return weak_from_this(); }

  double next_random() { return random ? random() : 0.5; }

  // -- reporting --------------------------------------------------------------------------

  void report(service svc, const std::string& method, int status,
              std::optional<os_error_kind> error, std::optional<transport_error> terr,
              milliseconds latency, int attempt) {
    if (observer == nullptr) return;
    call_report rep;
    rep.svc = svc;
    rep.method = method;
    rep.status = status;
    rep.error = error;
    rep.transport = terr;
    rep.latency = latency;
    rep.attempt = attempt;
    observer->on_call(rep);
  }

  /// Runs `fn` on the breaker of `svc` and reports a state change.
  template <class F>
  auto with_breaker(service svc, F fn) {
    auto& br = breakers[index_of(svc)];
    auto before = br.state();
    if constexpr (std::is_void_v<decltype(fn(br))>) {
      fn(br);
      if (observer != nullptr && br.state() != before) observer->on_breaker_change(svc, br.state());
    } else {
      auto res = fn(br);
      if (observer != nullptr && br.state() != before) observer->on_breaker_change(svc, br.state());
      return res;
    }
  }

  /// Errors may quote what the service echoed; credentials must not travel further.
  os_error scrub(os_error err) const {
    redact(err.message, cfg.credentials.password);
    redact(err.code, cfg.credentials.password);
    redact(err.message, cfg.credentials.application_credential_secret);
    redact(err.code, cfg.credentials.application_credential_secret);
    if (token) {
      redact(err.message, token->id);
      redact(err.code, token->id);
    }
    return err;
  }

  // -- tokens -----------------------------------------------------------------------------

  void with_token(token_waiter k) {
    if (token && clk.now() < refresh_at) return k(token);
    auth_waiters.push_back(std::move(k));
    if (auth_in_flight) return;
    auth_in_flight = true;
    auto body = build_auth_body(cfg.credentials);
    if (!body) return finish_auth(body.error());
    authenticate(std::make_shared<std::string>(std::move(*body)), 1, clk.now());
  }

  /// Drops `used` if it is still the current token, so the next call authenticates anew.
  void invalidate(const token_ptr& used) {
    if (token == used) {
      token.reset();
      auth_forced = true;
    }
  }

  void authenticate(std::shared_ptr<std::string> body, int attempt, clock::time_point started) {
    auto allowed
      = with_breaker(service::identity, [&](circuit_breaker& br) { return br.allow(clk.now()); });
    if (!allowed) {
      report(service::identity, "POST", 0, os_error_kind::circuit_open, std::nullopt,
             milliseconds{0}, attempt);
      return finish_auth(make(os_error_kind::circuit_open, "circuit_open",
                              "the identity service's circuit breaker is open"));
    }
    http_call call;
    call.method = "POST";
    call.url = token_url(cfg.credentials.auth_url);
    call.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    call.body = *body;
    call.timeout = cfg.call_timeout;
    auto sent_at = clk.now();
    transport.send(std::move(call),
                   [w = weak(), body, attempt, started, sent_at](transport_outcome out) {
                     if (auto self = w.lock())
                       self->on_auth_response(std::move(out), body, attempt, started, sent_at);
                   });
  }

  void on_auth_response(transport_outcome out, std::shared_ptr<std::string> body, int attempt,
                        clock::time_point started, clock::time_point sent_at) {
    auto now = clk.now();
    auto latency = std::chrono::duration_cast<milliseconds>(now - sent_at);
    os_error err;
    if (auto* failure = std::get_if<transport_failure>(&out)) {
      err = classify(*failure);
      report(service::identity, "POST", 0, err.kind, failure->error, latency, attempt);
      with_breaker(service::identity, [&](circuit_breaker& br) {
        if (err.kind == os_error_kind::transient)
          br.on_failure(now);
        else
          br.on_success();
      });
    } else {
      auto& res = std::get<http_result>(out);
      if (is_success(res.status)) {
        report(service::identity, "POST", res.status, std::nullopt, std::nullopt, latency, attempt);
        with_breaker(service::identity, [](circuit_breaker& br) { br.on_success(); });
        auto parsed = parse_token_response(res.headers, res.body);
        if (!parsed) return finish_auth(parsed.error());
        token = std::make_shared<const auth_token>(std::move(*parsed));
        refresh_at = token_refresh_at(*token, now, cfg.token_refresh_margin);
        if (observer != nullptr) observer->on_authenticated(auth_forced);
        auth_forced = false;
        return finish_auth(token);
      }
      err = classify(service::identity, res.status, res.headers, res.body, clk.utc_now());
      report(service::identity, "POST", res.status, err.kind, std::nullopt, latency, attempt);
      with_breaker(service::identity, [&](circuit_breaker& br) {
        if (err.kind == os_error_kind::transient)
          br.on_failure(now, err.retry_after);
        else
          br.on_success();
      });
      // Keystone's validation messages may quote the request, i.e. the password: keep only
      // status and code.
      err.message = "Keystone answered HTTP " + std::to_string(res.status);
      if (res.status == 401) {
        // Bad credentials: repeating cannot help and could lock the account.
        err.kind = os_error_kind::auth;
        err.message = "Keystone refused the credentials";
        return finish_auth(err);
      }
    }
    auto elapsed = std::chrono::duration_cast<milliseconds>(now - started);
    auto decision = decide_retry(cfg.retry, err, true, true, attempt, elapsed, next_random());
    if (!decision.retry) return finish_auth(decision.error);
    if (observer != nullptr) observer->on_retry(service::identity, scrub(err), decision.delay);
    tmr.after(decision.delay, [w = weak(), body, attempt, started] {
      if (auto self = w.lock()) self->authenticate(body, attempt + 1, started);
    });
  }

  void finish_auth(result<token_ptr> res) {
    auth_in_flight = false;
    auto waiters = std::move(auth_waiters);
    auth_waiters.clear();
    if (!res.ok()) {
      auto err = scrub(res.error());
      for (auto& k : waiters) k(err);
      return;
    }
    for (auto& k : waiters) k(res);
  }

  // -- calls ------------------------------------------------------------------------------

  void call(service svc, std::string method, std::string path, std::string body, std::string action,
            callback<http_result> cb) {
    auto req = std::make_shared<request>();
    req->svc = svc;
    req->idempotent = is_idempotent(method, action);
    req->method = std::move(method);
    req->path = std::move(path);
    req->body = std::move(body);
    req->action = std::move(action);
    req->cb = std::move(cb);
    req->started = clk.now();
    attempt(req);
  }

  void finish(const request_ptr& req, result<http_result> res) {
    auto cb = std::move(req->cb);
    req->cb = nullptr;
    if (!cb) return;
    if (!res.ok()) return cb(scrub(res.error()));
    cb(std::move(res));
  }

  void attempt(const request_ptr& req) {
    with_token([w = weak(), req](result<token_ptr> tok) {
      auto self = w.lock();
      if (!self) return;
      if (!tok) return self->finish(req, tok.error());
      self->send(req, *tok);
    });
  }

  void send(const request_ptr& req, token_ptr tok) {
    auto endpoint = select_endpoint(tok->catalog, req->svc, cfg.region, cfg.interface);
    if (!endpoint) return finish(req, endpoint.error());
    if (!allowlist.allows(*endpoint)) {
      auto url = parse_url(*endpoint);
      return finish(req, make(os_error_kind::endpoint_refused, "endpoint_not_allowed",
                              "the catalog's " + to_string(req->svc) + " endpoint on host "
                                + (url ? url->host : std::string{"?"})
                                + " is not on the endpoint allowlist"));
    }
    ++req->attempts;
    auto allowed = with_breaker(req->svc, [&](circuit_breaker& br) { return br.allow(clk.now()); });
    if (!allowed) {
      report(req->svc, req->method, 0, os_error_kind::circuit_open, std::nullopt, milliseconds{0},
             req->attempts);
      return finish(req, make(os_error_kind::circuit_open, "circuit_open",
                              "the " + to_string(req->svc)
                                + " service's circuit breaker is open; call not sent"));
    }
    http_call call;
    call.method = req->method;
    call.url = join_url(*endpoint, req->path);
    call.headers = {{"Accept", "application/json"}, {"X-Auth-Token", tok->id}};
    if (!req->body.empty()) call.headers.emplace_back("Content-Type", "application/json");
    if (req->svc == service::compute) {
      call.headers.emplace_back("OpenStack-API-Version", "compute " + cfg.compute_microversion);
      call.headers.emplace_back("X-OpenStack-Nova-API-Version", cfg.compute_microversion);
    } else if (req->svc == service::block_storage) {
      call.headers.emplace_back("OpenStack-API-Version", "volume " + cfg.volume_microversion);
    }
    call.body = req->body;
    call.timeout = cfg.call_timeout;
    gov.acquire([w = weak(), req, tok, call = std::move(call)]() mutable {
      auto self = w.lock();
      if (!self) return;
      auto sent_at = self->clk.now();
      self->transport.send(std::move(call), [w, req, tok, sent_at](transport_outcome out) {
        if (auto alive = w.lock()) alive->on_response(req, tok, sent_at, std::move(out));
      });
    });
  }

  void on_response(const request_ptr& req, const token_ptr& tok, clock::time_point sent_at,
                   transport_outcome out) {
    gov.release();
    auto now = clk.now();
    auto latency = std::chrono::duration_cast<milliseconds>(now - sent_at);
    os_error err;
    bool may_have_executed = true;
    if (auto* failure = std::get_if<transport_failure>(&out)) {
      err = classify(*failure);
      may_have_executed = failure->error != transport_error::connect_failed;
      report(req->svc, req->method, 0, err.kind, failure->error, latency, req->attempts);
      with_breaker(req->svc, [&](circuit_breaker& br) {
        if (err.kind == os_error_kind::transient)
          br.on_failure(now);
        else
          br.on_success();
      });
    } else {
      auto& res = std::get<http_result>(out);
      if (is_success(res.status)) {
        report(req->svc, req->method, res.status, std::nullopt, std::nullopt, latency,
               req->attempts);
        with_breaker(req->svc, [](circuit_breaker& br) { br.on_success(); });
        return finish(req, std::move(res));
      }
      err = classify(req->svc, res.status, res.headers, res.body, clk.utc_now());
      report(req->svc, req->method, res.status, err.kind, std::nullopt, latency, req->attempts);
      with_breaker(req->svc, [&](circuit_breaker& br) {
        if (err.kind == os_error_kind::transient)
          br.on_failure(now, err.retry_after);
        else
          br.on_success();
      });
      if (res.status == 401) {
        // keystonemiddleware refuses before the service acts, so even a POST may be
        // replayed; once, because a second 401 means broken credentials or roles.
        if (req->replays == 0) {
          ++req->replays;
          invalidate(tok);
          return attempt(req);
        }
        err.kind = os_error_kind::auth;
        err.message = "the service refused a fresh token: " + err.message;
        return finish(req, err);
      }
      // Only a response the server produced after acting can mean "maybe done": a 5xx. A 4xx
      // (429 and rate-limiting 413 included) is a refusal.
      may_have_executed = res.status >= 500;
    }
    auto elapsed = std::chrono::duration_cast<milliseconds>(now - req->started);
    auto decision = decide_retry(cfg.retry, err, may_have_executed, req->idempotent,
                                 req->attempts - req->replays, elapsed, next_random());
    if (!decision.retry) return finish(req, decision.error);
    if (observer != nullptr) observer->on_retry(req->svc, scrub(err), decision.delay);
    tmr.after(decision.delay, [w = weak(), req] {
      if (auto self = w.lock()) self->attempt(req);
    });
  }

  // -- typed helpers ----------------------------------------------------------------------

  /// Sends and parses a 2xx body with `parse`. A create whose success body cannot be read
  /// has happened all the same, so that turns into `outcome_unknown`.
  template <class T, class Parse>
  void typed(service svc, std::string method, std::string path, std::string body,
             std::string action, bool creates, Parse parse, callback<T> cb) {
    call(svc, std::move(method), std::move(path), std::move(body), std::move(action),
         [parse, creates, cb = std::move(cb)](result<http_result> res) {
           if (!res) return cb(res.error());
           result<T> parsed = parse(res->body);
           if (!parsed && creates) {
             auto err = parsed.error();
             err.kind = os_error_kind::outcome_unknown;
             err.message
               = "created, but the answer is unreadable (" + err.message + "); reconcile by tag";
             return cb(err);
           }
           cb(std::move(parsed));
         });
  }

  /// DELETE that counts 404 as done.
  void remove(service svc, std::string path, std::string action, callback<done> cb) {
    call(svc, "DELETE", std::move(path), {}, std::move(action),
         [cb = std::move(cb)](result<http_result> res) {
           if (res || res.error().kind == os_error_kind::not_found) return cb(done{});
           cb(res.error());
         });
  }

  /// Progress of one paginated listing.
  template <class T, class Parse>
  struct listing {
    service svc = service::compute;
    Parse parse;
    callback<std::vector<T>> cb;
    std::vector<T> items;
    size_t pages = 0;
    std::string path;
    std::string first_path;
    bool restarted = false;
  };

  /// GETs `path` and every following page; `parse` returns `result<page<T>>`.
  template <class T, class Parse>
  void list_all(service svc, std::string path, Parse parse, callback<std::vector<T>> cb) {
    auto st = std::make_shared<listing<T, Parse>>(
      listing<T, Parse>{svc, std::move(parse), std::move(cb), {}, 0, path, path, false});
    fetch_page(st);
  }

  template <class T, class Parse>
  void fetch_page(std::shared_ptr<listing<T, Parse>> st) {
    auto path = st->path;
    call(st->svc, "GET", std::move(path), {}, "list", [w = weak(), st](result<http_result> res) {
      if (auto self = w.lock()) self->on_page(st, std::move(res));
    });
  }

  template <class T, class Parse>
  void on_page(std::shared_ptr<listing<T, Parse>> st, result<http_result> res) {
    if (!res) {
      // Outside Nova a 4xx on a marker usually means the marked item was deleted meanwhile:
      // start over (once) rather than fail the whole listing.
      auto kind = res.error().kind;
      if (st->pages > 0 && st->svc != service::compute && !st->restarted
          && (kind == os_error_kind::bad_request || kind == os_error_kind::not_found)) {
        st->restarted = true;
        st->items.clear();
        st->pages = 0;
        st->path = st->first_path;
        return fetch_page(st);
      }
      return st->cb(res.error());
    }
    auto pg = st->parse(res->body);
    if (!pg) return st->cb(pg.error());
    ++st->pages;
    auto empty = pg->items.empty();
    for (auto& item : pg->items) st->items.push_back(std::move(item));
    // Nova sends `next` whenever a page is full, so an empty page ends the list too.
    if (!pg->next || empty) return st->cb(std::move(st->items));
    auto next = next_path(st->path, *pg->next);
    if (!next || *next == st->path || st->pages >= cfg.max_pages)
      return st->cb(make(os_error_kind::malformed_response, "bad_pagination",
                         "the list's next link is unusable, repeats, or exceeds "
                           + std::to_string(cfg.max_pages) + " pages"));
    st->path = std::move(*next);
    fetch_page(st);
  }
};

// -- client ---------------------------------------------------------------------------------

client::client(client_config config, http_transport& transport, timer& timer, clock& clock,
               random_source random, client_observer* observer)
  : impl_(std::make_shared<impl>(std::move(config), transport, timer, clock, std::move(random),
                                 observer)) {
  // nop
}

client::~client() {
  // nop
}

void client::call(service svc, std::string method, std::string path, std::string body,
                  std::string action, callback<http_result> cb) {
  impl_->call(svc, std::move(method), std::move(path), std::move(body), std::move(action),
              std::move(cb));
}

namespace {

std::string id_path(std::string_view prefix, const std::string& id) {
  return std::string{prefix} + url_encode(id);
}

template <class T>
auto invalid_spec_fails(const result<std::string>& body, const callback<T>& cb) {
  if (!body) cb(body.error());
  return !body;
}

} // namespace

// -- Neutron --------------------------------------------------------------------------------

void client::create_network(const network_spec& spec, callback<network> cb) {
  auto body = build_network_create(spec);
  if (invalid_spec_fails(body, cb)) return;
  impl_->typed<network>(service::network, "POST", "/v2.0/networks", std::move(*body),
                        "create_network", true, parse_network, std::move(cb));
}

void client::get_network(const std::string& id, callback<network> cb) {
  impl_->typed<network>(service::network, "GET", id_path("/v2.0/networks/", id), {}, "get", false,
                        parse_network, std::move(cb));
}

void client::delete_network(const std::string& id, callback<done> cb) {
  impl_->remove(service::network, id_path("/v2.0/networks/", id), "delete_network", std::move(cb));
}

void client::find_networks_by_tags(const std::vector<std::string>& tags,
                                   callback<std::vector<network>> cb) {
  impl_->list_all<network>(service::network, with_query("/v2.0/networks", tags_query(tags)),
                           parse_networks, std::move(cb));
}

void client::create_subnet(const subnet_spec& spec, callback<subnet> cb) {
  auto body = build_subnet_create(spec);
  if (invalid_spec_fails(body, cb)) return;
  impl_->typed<subnet>(service::network, "POST", "/v2.0/subnets", std::move(*body), "create_subnet",
                       true, parse_subnet, std::move(cb));
}

void client::delete_subnet(const std::string& id, callback<done> cb) {
  impl_->remove(service::network, id_path("/v2.0/subnets/", id), "delete_subnet", std::move(cb));
}

void client::find_subnets_by_tags(const std::vector<std::string>& tags,
                                  callback<std::vector<subnet>> cb) {
  impl_->list_all<subnet>(service::network, with_query("/v2.0/subnets", tags_query(tags)),
                          parse_subnets, std::move(cb));
}

void client::create_router(const router_spec& spec, callback<router> cb) {
  auto body = build_router_create(spec);
  if (invalid_spec_fails(body, cb)) return;
  impl_->typed<router>(service::network, "POST", "/v2.0/routers", std::move(*body), "create_router",
                       true, parse_router, std::move(cb));
}

void client::set_router_gateway(const std::string& router_id,
                                const std::optional<std::string>& external_network_id,
                                callback<router> cb) {
  impl_->typed<router>(service::network, "PUT", id_path("/v2.0/routers/", router_id),
                       build_router_gateway(external_network_id), "set_router_gateway", false,
                       parse_router, std::move(cb));
}

void client::add_router_interface(const std::string& router_id, const std::string& subnet_id,
                                  callback<router_interface> cb) {
  impl_->typed<router_interface>(service::network, "PUT",
                                 id_path("/v2.0/routers/", router_id) + "/add_router_interface",
                                 build_router_interface(subnet_id), "add_router_interface", false,
                                 parse_router_interface, std::move(cb));
}

void client::remove_router_interface(const std::string& router_id, const std::string& subnet_id,
                                     callback<router_interface> cb) {
  impl_->typed<router_interface>(service::network, "PUT",
                                 id_path("/v2.0/routers/", router_id) + "/remove_router_interface",
                                 build_router_interface(subnet_id), "remove_router_interface",
                                 false, parse_router_interface, std::move(cb));
}

void client::delete_router(const std::string& id, callback<done> cb) {
  impl_->remove(service::network, id_path("/v2.0/routers/", id), "delete_router", std::move(cb));
}

void client::find_routers_by_tags(const std::vector<std::string>& tags,
                                  callback<std::vector<router>> cb) {
  impl_->list_all<router>(service::network, with_query("/v2.0/routers", tags_query(tags)),
                          parse_routers, std::move(cb));
}

void client::list_ports(const port_filter& filter, callback<std::vector<port>> cb) {
  impl_->list_all<port>(service::network, with_query("/v2.0/ports", port_query(filter)),
                        parse_ports, std::move(cb));
}

void client::delete_port(const std::string& id, callback<done> cb) {
  impl_->remove(service::network, id_path("/v2.0/ports/", id), "delete_port", std::move(cb));
}

void client::replace_tags(neutron_collection collection, const std::string& id,
                          const std::vector<std::string>& tags,
                          callback<std::vector<std::string>> cb) {
  auto body = build_tags(service::network, tags);
  if (invalid_spec_fails(body, cb)) return;
  impl_->typed<std::vector<std::string>>(
    service::network, "PUT", id_path("/v2.0/" + to_string(collection) + "/", id) + "/tags",
    std::move(*body), "replace_tags", false, parse_tags, std::move(cb));
}

// -- Nova -----------------------------------------------------------------------------------

void client::create_server(const server_spec& spec, callback<created_server> cb) {
  auto body = build_server_create(spec);
  if (invalid_spec_fails(body, cb)) return;
  impl_->typed<created_server>(service::compute, "POST", "/servers", std::move(*body),
                               "create_server", true, parse_server_create, std::move(cb));
}

void client::get_server(const std::string& id, callback<server> cb) {
  impl_->typed<server>(service::compute, "GET", id_path("/servers/", id), {}, "get", false,
                       parse_server, std::move(cb));
}

void client::list_servers_detail(const server_filters& filters, callback<std::vector<server>> cb) {
  auto exact_name = filters.name;
  impl_->list_all<server>(
    service::compute, with_query("/servers/detail", server_detail_query(filters)),
    parse_servers_detail, [exact_name, cb = std::move(cb)](result<std::vector<server>> res) {
      if (!res || exact_name.empty()) return cb(std::move(res));
      // Nova's name filter is a regex whose dialect depends on the database: re-check.
      auto& items = *res;
      items.erase(std::remove_if(items.begin(), items.end(),
                                 [&](const server& s) { return s.name != exact_name; }),
                  items.end());
      cb(std::move(res));
    });
}

void client::delete_server(const std::string& id, callback<done> cb) {
  impl_->remove(service::compute, id_path("/servers/", id), "delete_server", std::move(cb));
}

void client::run_server_action(const std::string& id, const server_action& action,
                               callback<done> cb) {
  auto body = build_server_action(action);
  if (invalid_spec_fails(body, cb)) return;
  impl_->call(service::compute, "POST", id_path("/servers/", id) + "/action", std::move(*body),
              to_string(action.kind), [cb = std::move(cb)](result<http_result> res) {
                if (!res) return cb(res.error());
                cb(done{});
              });
}

void client::replace_server_tags(const std::string& id, const std::vector<std::string>& tags,
                                 callback<std::vector<std::string>> cb) {
  auto body = build_tags(service::compute, tags);
  if (invalid_spec_fails(body, cb)) return;
  impl_->typed<std::vector<std::string>>(service::compute, "PUT",
                                         id_path("/servers/", id) + "/tags", std::move(*body),
                                         "replace_tags", false, parse_tags, std::move(cb));
}

void client::attach_volume(const std::string& server_id, const std::string& volume_id,
                           bool delete_on_termination, callback<volume_attachment> cb) {
  impl_->call(
    service::compute, "POST", id_path("/servers/", server_id) + "/os-volume_attachments",
    build_volume_attach(volume_id, delete_on_termination), "attach_volume",
    [server_id, volume_id, delete_on_termination, cb = std::move(cb)](result<http_result> res) {
      if (!res) return cb(res.error());
      if (res->body.empty()) {
        // 2.101+: 202 without a body.
        volume_attachment att;
        att.volume_id = volume_id;
        att.server_id = server_id;
        att.delete_on_termination = delete_on_termination;
        return cb(att);
      }
      auto parsed = parse_volume_attachment(res->body);
      if (!parsed) {
        auto err = parsed.error();
        err.kind = os_error_kind::outcome_unknown;
        err.message = "attached, but the answer is unreadable (" + err.message + ")";
        return cb(err);
      }
      cb(std::move(parsed));
    });
}

void client::detach_volume(const std::string& server_id, const std::string& volume_id,
                           callback<done> cb) {
  impl_->remove(service::compute,
                id_path("/servers/", server_id) + id_path("/os-volume_attachments/", volume_id),
                "detach_volume", std::move(cb));
}

void client::list_volume_attachments(const std::string& server_id,
                                     callback<std::vector<volume_attachment>> cb) {
  impl_->typed<std::vector<volume_attachment>>(
    service::compute, "GET", id_path("/servers/", server_id) + "/os-volume_attachments", {}, "list",
    false, parse_volume_attachments, std::move(cb));
}

void client::list_flavors(callback<std::vector<flavor>> cb) {
  impl_->list_all<flavor>(service::compute, "/flavors/detail", parse_flavors, std::move(cb));
}

void client::find_flavor(const std::string& name, callback<flavor> cb) {
  list_flavors([name, cb = std::move(cb)](result<std::vector<flavor>> res) {
    if (!res) return cb(res.error());
    for (auto& f : *res)
      if (f.name == name) return cb(std::move(f));
    cb(make(os_error_kind::not_found, "flavor_not_found", "no flavor is named " + name));
  });
}

// -- Cinder ---------------------------------------------------------------------------------

void client::create_volume(const volume_spec& spec, callback<volume> cb) {
  auto body = build_volume_create(spec);
  if (invalid_spec_fails(body, cb)) return;
  impl_->typed<volume>(service::block_storage, "POST", "/volumes", std::move(*body),
                       "create_volume", true, parse_volume, std::move(cb));
}

void client::get_volume(const std::string& id, callback<volume> cb) {
  impl_->typed<volume>(service::block_storage, "GET", id_path("/volumes/", id), {}, "get", false,
                       parse_volume, std::move(cb));
}

void client::delete_volume(const std::string& id, callback<done> cb) {
  impl_->remove(service::block_storage, id_path("/volumes/", id), "delete_volume", std::move(cb));
}

void client::list_volumes(const volume_filters& filters, callback<std::vector<volume>> cb) {
  impl_->list_all<volume>(service::block_storage,
                          with_query("/volumes/detail", volume_detail_query(filters)),
                          parse_volumes, std::move(cb));
}

// -- Glance ---------------------------------------------------------------------------------

void client::find_image(const std::string& name, callback<image> cb) {
  auto path = "/v2/images?name=" + url_encode(name) + "&status=active";
  impl_->list_all<image>(service::image, std::move(path), parse_images,
                         [name, cb = std::move(cb)](result<std::vector<image>> res) {
                           if (!res) return cb(res.error());
                           const image* best = nullptr;
                           for (const auto& img : *res) {
                             // Filters a cloud does not know are dropped silently: re-check.
                             if (img.name != name || img.status != "active") continue;
                             if (best == nullptr || img.created_at > best->created_at) best = &img;
                           }
                           if (best == nullptr)
                             return cb(make(os_error_kind::not_found, "image_not_found",
                                            "no active image is named " + name));
                           cb(*best);
                         });
}

// -- state ----------------------------------------------------------------------------------

breaker_state client::breaker(service svc) const {
  return impl_->breakers[index_of(svc)].state();
}

std::size_t client::in_flight() const {
  return impl_->gov.in_flight();
}

std::size_t client::waiting() const {
  return impl_->gov.waiting();
}

} // namespace orch::openstack
