// The /_sim control API: state dump, reset, call counters and fault rules. Unauthenticated on
// purpose: it is the test harness's back door, never part of the emulated cloud.

#include "service.hpp"

namespace orch::sim {

namespace {

response control_error(int status, std::string_view message) {
  return json_response(status, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("error");
                         write_str(w, message);
                         w.EndObject();
                       }));
}

void write_rule(json_writer& w, const fault_rule& r) {
  w.StartObject();
  w.Key("id");
  write_str(w, r.id);
  w.Key("route");
  write_str(w, r.route);
  w.Key("method");
  write_str(w, r.method);
  w.Key("status");
  w.Int(r.status);
  w.Key("rate");
  w.Double(r.rate);
  w.Key("retry_after");
  if (r.retry_after)
    w.Int(*r.retry_after);
  else
    w.Null();
  w.Key("latency_ms");
  w.Int64(r.latency.count());
  w.Key("drop");
  w.Bool(r.drop);
  w.Key("after");
  w.Bool(r.after);
  w.Key("nth");
  w.Uint64(r.nth);
  w.Key("remaining");
  w.Int64(r.remaining);
  w.Key("matched");
  w.Uint64(r.matched);
  w.Key("hits");
  w.Uint64(r.hits);
  w.EndObject();
}

response add_fault(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  if (!doc) return control_error(400, "body must be a JSON object");
  fault_rule r;
  auto& d = *doc;
  for (auto& m : d.GetObject()) {
    auto key = str_of(m.name);
    auto& v = m.value;
    if (key == "route" && v.IsString())
      r.route = v.GetString();
    else if (key == "method" && v.IsString())
      r.method = v.GetString();
    else if (key == "status" && v.IsInt() && v.GetInt() >= 100 && v.GetInt() <= 599)
      r.status = v.GetInt();
    else if (key == "rate" && v.IsNumber() && v.GetDouble() >= 0 && v.GetDouble() <= 1)
      r.rate = v.GetDouble();
    else if (key == "retry_after" && v.IsInt() && v.GetInt() >= 0)
      r.retry_after = v.GetInt();
    else if (key == "latency_ms" && v.IsInt() && v.GetInt() >= 0)
      r.latency = std::chrono::milliseconds{v.GetInt()};
    else if (key == "drop" && v.IsBool())
      r.drop = v.GetBool();
    else if (key == "after" && v.IsBool())
      r.after = v.GetBool();
    else if (key == "nth" && v.IsUint())
      r.nth = v.GetUint();
    else if (key == "count" && v.IsInt() && v.GetInt() > 0)
      r.remaining = v.GetInt();
    else
      return control_error(400, "invalid fault field '" + std::string{key}
                                  + "' (route, method, status, rate, retry_after, latency_ms, "
                                    "drop, after, nth, count)");
  }
  if (r.status == 0 && r.latency.count() == 0 && !r.drop)
    return control_error(400, "a fault needs status, latency_ms or drop");
  if (r.after && r.status == 0 && !r.drop)
    return control_error(400, "after needs status or drop: it replaces the real answer");
  if (r.route != "*") {
    bool known = false;
    for (auto& route : st.routes) known = known || route.pattern == r.route;
    if (!known)
      return control_error(400,
                           "unknown route pattern '" + r.route + "' (GET /_sim/calls lists them)");
  }
  r.id = std::to_string(st.next_fault_id++);
  st.faults.push_back(r);
  return json_response(201, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("fault");
                         write_rule(w, st.faults.back());
                         w.EndObject();
                       }));
}

} // namespace

void add_control_routes(impl_state& st) {
  auto add = [&](std::string method, std::string pattern, route_fn fn) {
    add_route(st, service_family::control, "control", std::move(method), "/_sim" + pattern,
              std::move(fn), false);
  };
  add("GET", "/state", [](impl_state& s, call& c) {
    call view = c;
    view.microversion = 2090;
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("servers");
                           w.StartArray();
                           for (auto& [seq, id] : s.server_order)
                             write_server(w, s, s.servers.at(id), view);
                           w.EndArray();
                           w.Key("networks");
                           w.StartArray();
                           for (auto& [id, n] : s.networks) write_network(w, n);
                           w.EndArray();
                           w.Key("subnets");
                           w.StartArray();
                           for (auto& [id, sn] : s.subnets) write_subnet(w, sn);
                           w.EndArray();
                           w.Key("ports");
                           w.StartArray();
                           for (auto& [id, p] : s.ports) write_port(w, p);
                           w.EndArray();
                           w.Key("routers");
                           w.StartArray();
                           for (auto& [id, r] : s.routers) write_router(w, s, r);
                           w.EndArray();
                           w.Key("volumes");
                           w.StartArray();
                           call vview = c;
                           vview.microversion = 3060;
                           for (auto& [seq, id] : s.volume_order)
                             write_volume(w, s, s.volumes.at(id), vview);
                           w.EndArray();
                           w.Key("images");
                           w.StartArray();
                           for (auto& i : s.images) write_image(w, s, i);
                           w.EndArray();
                           w.Key("tokens");
                           w.Uint64(s.tokens.size());
                           w.Key("pending_transitions");
                           w.Uint64(s.events.size());
                           w.Key("failing_boots");
                           w.Int(s.failing_boots);
                           w.EndObject();
                         }));
  });
  add("POST", "/reset", [](impl_state& s, call&) {
    s.reset();
    for (auto& r : s.routes) r.calls = 0;
    return empty_response(204);
  });
  add("GET", "/calls", [](impl_state& s, call&) {
    return json_response(200, render([&](json_writer& w) {
                           uint64_t total = 0;
                           w.StartObject();
                           w.Key("calls");
                           w.StartArray();
                           for (auto& r : s.routes) {
                             if (r.family == service_family::control) continue;
                             total += r.calls;
                             w.StartObject();
                             w.Key("service");
                             write_str(w, r.service);
                             w.Key("method");
                             write_str(w, r.method);
                             w.Key("route");
                             write_str(w, r.pattern);
                             w.Key("count");
                             w.Uint64(r.calls);
                             w.EndObject();
                           }
                           w.EndArray();
                           w.Key("total");
                           w.Uint64(total);
                           w.EndObject();
                         }));
  });
  add("DELETE", "/calls", [](impl_state& s, call&) {
    for (auto& r : s.routes) r.calls = 0;
    return empty_response(204);
  });
  add("GET", "/faults", [](impl_state& s, call&) {
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("faults");
                           w.StartArray();
                           for (auto& r : s.faults) write_rule(w, r);
                           w.EndArray();
                           w.Key("failing_boots");
                           w.Int(s.failing_boots);
                           w.EndObject();
                         }));
  });
  add("POST", "/faults", add_fault);
  add("DELETE", "/faults", [](impl_state& s, call&) {
    s.faults.clear();
    s.failing_boots = 0;
    return empty_response(204);
  });
  add("DELETE", "/faults/{id}", [](impl_state& s, call& c) {
    auto n = std::erase_if(s.faults, [&](auto& r) { return r.id == c.params[0]; });
    return n == 0 ? control_error(404, "no fault " + c.params[0]) : empty_response(204);
  });
  add("POST", "/boot-failures", [](impl_state& s, call& c) {
    auto doc = parse_body(c.req);
    if (!doc || !doc->HasMember("count") || !(*doc)["count"].IsInt()
        || (*doc)["count"].GetInt() < 0)
      return control_error(400, "body must be {\"count\": <non-negative integer>}");
    s.failing_boots = (*doc)["count"].GetInt();
    return json_response(200, "{\"failing_boots\":" + std::to_string(s.failing_boots) + "}");
  });
  add("POST", "/tokens/revoke", [](impl_state& s, call&) {
    s.tokens.clear();
    return empty_response(204);
  });
}

} // namespace orch::sim
