// orchctl: the orchestrator's command line (docs/orchctl.md).

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <sys/ioctl.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api.hpp"
#include "cli.hpp"
#include "orch/logging.hpp"
#include "orch/openstack/url.hpp"
#include "progress.hpp"
#include "render.hpp"
#include "settings.hpp"

extern char** environ;

namespace {

using namespace orch::ctl;
using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;
using steady = std::chrono::steady_clock;

constexpr int max_event_page = 1000;

int code(exit_code x) {
  return static_cast<int>(x);
}

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv = *e;
    if (auto eq = kv.find('='); eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

int usage_failure(const std::string& message, const std::string& command = {}) {
  std::cerr << "orchctl: " << message << "\n"
            << "(see orchctl help" << (command.empty() ? "" : " " + command) << ")\n";
  return code(exit_code::usage);
}

std::string member_text(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return {};
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd() || i->value.IsNull()) return {};
  return scalar_text(i->value);
}

void write_params(json_writer& w, const std::map<std::string, param_value>& params) {
  w.StartObject();
  for (auto& [k, v] : params) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    if (auto n = std::get_if<long long>(&v))
      w.Int64(*n);
    else {
      auto& s = std::get<std::string>(v);
      w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    }
  }
  w.EndObject();
}

void write_string(json_writer& w, const std::string& s) {
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

bool is_uuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

bool is_busy(const std::string& status) {
  return status == "PENDING" || status == "IN_PROGRESS" || status == "UPDATING"
         || status == "CONFIGURING" || status == "SCALING" || status == "DELETING";
}

/// Why a command stopped early, as an exit status; `std::nullopt` while all is well.
using failure = std::optional<int>;

class app {
public:
  app(invocation inv, settings cfg)
    : inv_(std::move(inv)), cfg_(cfg), api_(cfg, "orchctl/" ORCH_VERSION),
      json_(inv_.value("output").value_or("table") == "json"), tty_(::isatty(STDOUT_FILENO) == 1) {
    // nop
  }

  int run() {
    const auto& c = inv_.command;
    if (c == "template apply") return template_apply();
    if (c == "deploy") return deploy();
    if (c == "get") return get();
    if (c == "list") return list();
    if (c == "events") return events();
    if (c == "plan") return plan();
    if (c == "update") return update();
    if (c == "scale") return scale();
    if (c == "configure") return configure();
    if (c == "delete") return remove();
    if (c == "orphans") return orphans();
    return usage_failure("unknown command '" + c + "'");
  }

private:
  // -- HTTP with error reporting ------------------------------------------------------------

  /// Sends a request; on a transport failure or an unexpected status, prints the problem and
  /// returns nothing.
  std::optional<api_response> request(const std::string& method, const std::string& target,
                                      const std::string& body, std::initializer_list<int> ok,
                                      std::vector<std::pair<std::string, std::string>> headers
                                      = {}) {
    auto out = api_.call(method, target, body, std::move(headers));
    if (auto problem = std::get_if<transport_problem>(&out)) {
      std::cerr << "orchctl: cannot reach " << cfg_.url << ": " << problem->detail << "\n";
      return std::nullopt;
    }
    auto& res = std::get<api_response>(out);
    for (int status : ok)
      if (res.status == status) return std::move(res);
    report(res);
    return std::nullopt;
  }

  /// Prints an error answer (RFC 9457 problem details when it is one) to stderr.
  static void report(const api_response& res) {
    rapidjson::Document doc;
    doc.Parse(res.body.c_str(), res.body.size());
    std::ostringstream out;
    out << "orchctl: HTTP " << res.status;
    auto request_id = res.header("X-Request-ID");
    if (!doc.HasParseError() && doc.IsObject()) {
      if (auto title = member_text(doc, "title"); !title.empty()) out << " " << title;
      auto detail = member_text(doc, "detail");
      if (!detail.empty()) out << ": " << detail;
      out << "\n";
      // Field errors the detail does not already spell out.
      if (auto errors = doc.FindMember("errors");
          errors != doc.MemberEnd() && errors->value.IsArray())
        for (const auto& e : errors->value.GetArray()) {
          auto line = member_text(e, "field") + ": " + member_text(e, "message");
          if (detail.find(line) == std::string::npos) out << "  " << line << "\n";
        }
      if (auto rid = member_text(doc, "request_id"); !rid.empty()) request_id = rid;
    } else {
      out << "\n";
    }
    if (!request_id.empty()) out << "  request_id: " << request_id << "\n";
    std::cerr << out.str();
  }

  void print_body(const std::string& body) { std::cout << body << "\n"; }

  /// Prints an API answer: its JSON as sent with `-o json`, else `format` of it.
  template <class Format>
  int answer(const std::string& body, Format format) {
    if (json_) {
      print_body(body);
    } else {
      rapidjson::Document doc;
      doc.Parse(body.c_str(), body.size());
      std::cout << format(doc);
    }
    return code(exit_code::ok);
  }

  /// The deployment id `arg` names: itself if it is a UUID, else the one live deployment of
  /// that exact name.
  std::optional<std::string> resolve_id(const std::string& arg) {
    if (is_uuid(arg)) return arg;
    auto res = request("GET", "/deployments?limit=500&name=" + orch::openstack::url_encode(arg), {},
                       {200});
    if (!res) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(res->body.c_str(), res->body.size());
    if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("items") && doc["items"].IsArray())
      for (const auto& d : doc["items"].GetArray())
        if (member_text(d, "name") == arg) return member_text(d, "id");
    std::cerr << "orchctl: no deployment named '" << arg << "'\n";
    return std::nullopt;
  }

  /// The deployment as JSON and its version (the `ETag`).
  std::optional<std::pair<rapidjson::Document, int64_t>> fetch(const std::string& id) {
    auto res = request("GET", "/deployments/" + id, {}, {200});
    if (!res) return std::nullopt;
    std::pair<rapidjson::Document, int64_t> out;
    out.first.Parse(res->body.c_str(), res->body.size());
    auto etag = res->header("ETag");
    etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
    out.second = etag.empty() ? 0 : std::stoll(etag);
    return out;
  }

  // -- following an operation ---------------------------------------------------------------

  /// Prints one event as a plain line: `10:30:01  #12  created network my-app-net`.
  void print_event_line(const rapidjson::Value& item, const std::string& text) {
    std::cout << short_time(member_text(item, "at")) << "  #" << member_text(item, "seq") << "  "
              << text << "\n"
              << std::flush;
  }

  /// The width of the terminal, for the progress line.
  static std::size_t columns() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col - 1;
    return 100;
  }

  void redraw(const progress_tracker& tracker, const std::string& name, steady::time_point start) {
    auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(steady::now() - start);
    std::cout << "\r\033[K" << tracker.render(name, elapsed, columns()) << std::flush;
  }

  /// Feeds the stream of `id` after `after` into `tracker` until its operation ends; prints
  /// progress (terminal), plain lines (otherwise) or JSON lines (`-o json` with `--follow`).
  /// Returns the exit status.
  int follow(const std::string& id, const std::string& name, int64_t after,
             progress_tracker& tracker, bool json_lines) {
    auto start = steady::now();
    bool live = tty_ && !json_;
    if (live) redraw(tracker, name, start);
    auto on_event = [&](const sse_event& ev) {
      rapidjson::Document doc;
      doc.Parse(ev.data.c_str(), ev.data.size());
      if (doc.HasParseError()) return true;
      auto text = tracker.apply(doc);
      if (live)
        redraw(tracker, name, start);
      else if (json_lines)
        std::cout << ev.data << "\n" << std::flush;
      else if (!json_)
        print_event_line(doc, text);
      // After DELETED the server ends the stream itself: let it, rather than race its close.
      return !tracker.settled() || tracker.status() == "DELETED";
    };
    // The status change after `operation_finished` comes at once; should it not, a few
    // seconds do not leave the user waiting for nothing.
    int ticks_since_finished = 0;
    auto on_tick = [&] {
      if (live) redraw(tracker, name, start);
      return !tracker.finished() || ++ticks_since_finished < 3;
    };
    auto is_final = [&] { return tracker.status() == "DELETED"; };
    auto out = api_.stream("/deployments/" + id + "/events", after, on_event, on_tick, is_final);
    if (live) std::cout << "\n";
    if (auto problem = std::get_if<transport_problem>(&out)) {
      std::cerr << "orchctl: lost the event stream of " << id << ": " << problem->detail << "\n";
      return code(exit_code::api_error);
    }
    if (auto res = std::get_if<api_response>(&out)) {
      report(*res);
      return code(exit_code::api_error);
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(steady::now() - start);
    if (!tracker.finished()) {
      // The server closes the stream after the deployment is DELETED.
      if (tracker.status() == "DELETED") {
        if (!json_) std::cout << name << " DELETED after " << format_elapsed(elapsed) << "\n";
        return code(exit_code::ok);
      }
      std::cerr << "orchctl: the event stream ended before the operation did\n";
      return code(exit_code::api_error);
    }
    bool ok = tracker.outcome() == "succeeded";
    if (!json_) {
      auto status = tracker.status();
      std::cout << name << " " << (status.empty() ? "?" : status) << ": " << tracker.outcome()
                << " after " << format_elapsed(elapsed) << " (" << tracker.done() << "/"
                << tracker.total() << " resources)\n";
      if (!tracker.error().empty()) std::cout << "error: " << tracker.error() << "\n";
    }
    return code(ok ? exit_code::ok : exit_code::failed);
  }

  /// After `--wait` with `-o json`: the deployment as it ended.
  int finish_json(const std::string& id, int rc) {
    if (!json_) return rc;
    auto res = api_.call("GET", "/deployments/" + id);
    if (auto r = std::get_if<api_response>(&res); r && r->status == 200) print_body(r->body);
    return rc;
  }

  /// The resources a deploy of `d` creates (the engine's plan: network, subnets, router and
  /// its links, then per VM a server and per volume a volume and its attachment).
  static int planned_resources(const rapidjson::Value& d) {
    if (!d.IsObject() || !d.HasMember("template")) return 0;
    const auto& t = d["template"];
    int n = 0;
    if (t.HasMember("network_config") && t["network_config"].IsObject()) {
      const auto& net = t["network_config"];
      int subnets = net.HasMember("subnets") && net["subnets"].IsObject()
                      ? static_cast<int>(net["subnets"].MemberCount())
                      : 0;
      n += 1 + subnets;
      if (net.HasMember("router") && net["router"].IsBool() && net["router"].GetBool())
        n += 1 + subnets + (member_text(net, "external_network").empty() ? 0 : 1);
    }
    if (t.HasMember("vm_config") && t["vm_config"].IsObject()) {
      for (auto g = t["vm_config"].MemberBegin(); g != t["vm_config"].MemberEnd(); ++g) {
        int count = g->value.HasMember("count") && g->value["count"].IsInt()
                      ? g->value["count"].GetInt()
                      : 0;
        std::string key = std::string{g->name.GetString()} + "_count";
        if (d.HasMember("parameters") && d["parameters"].IsObject()
            && d["parameters"].HasMember(key.c_str()) && d["parameters"][key.c_str()].IsInt())
          count = d["parameters"][key.c_str()].GetInt();
        int volumes = g->value.HasMember("volumes") && g->value["volumes"].IsArray()
                        ? static_cast<int>(g->value["volumes"].Size())
                        : 0;
        n += count * (1 + 2 * volumes);
      }
    }
    return n;
  }

  /// Starts an operation with `send` (which must answer 202) and, with `--wait`, follows it.
  template <class Send>
  int operation(const std::string& id, const std::string& type, Send send) {
    int64_t version = 0;
    std::string name = id;
    if (inv_.has("wait")) {
      // Events after this version belong to the operation we are about to start.
      auto current = fetch(id);
      if (!current) return code(exit_code::api_error);
      version = current->second;
      name = member_text(current->first, "name");
    }
    auto res = send();
    if (!res) return code(exit_code::api_error);
    if (!inv_.has("wait")) {
      if (json_)
        print_body(res->body);
      else
        std::cout << type << " of " << id << " accepted\n";
      return code(exit_code::ok);
    }
    progress_tracker tracker{type};
    return finish_json(id, follow(id, name, version, tracker, false));
  }

  std::optional<std::map<std::string, param_value>> key_values(const std::string& option) {
    auto parsed = parse_key_values(inv_.values(option), option);
    if (auto err = std::get_if<usage_error>(&parsed)) {
      usage_failure(err->message, inv_.command);
      return std::nullopt;
    }
    return std::get<std::map<std::string, param_value>>(parsed);
  }

  // -- commands -----------------------------------------------------------------------------

  int template_apply() {
    auto path = *inv_.value("file");
    std::ifstream in{path};
    if (!in) return usage_failure("cannot read " + path, inv_.command);
    std::stringstream text;
    text << in.rdbuf();
    auto body = text.str();
    rapidjson::Document doc;
    doc.Parse(body.c_str(), body.size());
    if (doc.HasParseError() || !doc.IsObject())
      return usage_failure(path + " is not a JSON object", inv_.command);
    auto name = member_text(doc, "name");
    if (name.empty()) return usage_failure(path + " has no \"name\"", inv_.command);
    auto put = api_.call("PUT", "/templates/" + orch::openstack::url_encode(name), body);
    std::optional<api_response> res;
    std::string verb = "updated";
    if (auto r = std::get_if<api_response>(&put); r && r->status == 404) {
      res = request("POST", "/templates", body, {201});
      verb = "created";
    } else if (r && r->status == 200) {
      res = std::move(*r);
    } else if (r) {
      report(*r);
    } else {
      std::cerr << "orchctl: cannot reach " << cfg_.url << ": "
                << std::get<transport_problem>(put).detail << "\n";
    }
    if (!res) return code(exit_code::api_error);
    if (json_)
      print_body(res->body);
    else
      std::cout << "template " << name << " " << verb << "\n";
    return code(exit_code::ok);
  }

  int deploy() {
    auto params = key_values("param");
    if (!params) return code(exit_code::usage);
    rapidjson::StringBuffer buf;
    json_writer w{buf};
    w.StartObject();
    w.Key("name");
    write_string(w, inv_.args[0]);
    w.Key("template");
    write_string(w, *inv_.value("template"));
    w.Key("cloud_region");
    write_string(w, inv_.value("region").value_or("RegionOne"));
    w.Key("parameters");
    write_params(w, *params);
    w.EndObject();
    auto res = request("POST", "/deployments", buf.GetString(), {202});
    if (!res) return code(exit_code::api_error);
    rapidjson::Document doc;
    doc.Parse(res->body.c_str(), res->body.size());
    auto id = member_text(doc, "id");
    if (!inv_.has("wait")) {
      if (json_)
        print_body(res->body);
      else
        std::cout << "deployment " << inv_.args[0] << " accepted: " << id << " ("
                  << member_text(doc, "status") << ")\n";
      return code(exit_code::ok);
    }
    if (!json_) std::cout << "deployment " << inv_.args[0] << " accepted: " << id << "\n";
    int expected = 0;
    if (auto current = fetch(id)) expected = planned_resources(current->first);
    progress_tracker tracker{"deploy", expected};
    return finish_json(id, follow(id, inv_.args[0], 0, tracker, false));
  }

  int get() {
    auto id = resolve_id(inv_.args[0]);
    if (!id) return code(exit_code::api_error);
    auto res = request("GET", "/deployments/" + *id, {}, {200});
    if (!res) return code(exit_code::api_error);
    return answer(res->body, [](const rapidjson::Document& doc) { return format_deployment(doc); });
  }

  int list() {
    std::string query = "/deployments?limit=" + inv_.value("limit").value_or("50");
    if (auto s = inv_.value("status")) query += "&status=" + orch::openstack::url_encode(*s);
    if (auto n = inv_.value("name")) query += "&name=" + orch::openstack::url_encode(*n);
    if (inv_.has("include-deleted")) query += "&include_deleted=true";
    auto res = request("GET", query, {}, {200});
    if (!res) return code(exit_code::api_error);
    return answer(res->body,
                  [](const rapidjson::Document& doc) { return format_deployment_list(doc); });
  }

  int events() {
    auto id = resolve_id(inv_.args[0]);
    if (!id) return code(exit_code::api_error);
    std::string name = *id;
    std::string status;
    if (inv_.has("follow")) {
      // The status before the history: if the deployment was idle then, the history holds
      // everything up to at least that moment.
      auto current = fetch(*id);
      if (!current) return code(exit_code::api_error);
      name = member_text(current->first, "name");
      status = member_text(current->first, "status");
    }
    std::vector<std::string> items;
    int64_t after = 0;
    for (;;) {
      auto res = request("GET",
                         "/deployments/" + *id + "/events?after=" + std::to_string(after)
                           + "&limit=" + std::to_string(max_event_page),
                         {}, {200});
      if (!res) return code(exit_code::api_error);
      rapidjson::Document page;
      page.Parse(res->body.c_str(), res->body.size());
      const rapidjson::Value* list = &page;
      if (page.IsObject() && page.HasMember("items")) list = &page["items"];
      if (!list->IsArray()) break;
      for (const auto& item : list->GetArray()) {
        rapidjson::StringBuffer buf;
        json_writer w{buf};
        item.Accept(w);
        items.emplace_back(buf.GetString(), buf.GetSize());
        if (auto seq = item.FindMember("seq"); seq != item.MemberEnd() && seq->value.IsInt64())
          after = seq->value.GetInt64();
      }
      if (list->Size() < static_cast<rapidjson::SizeType>(max_event_page)) break;
    }
    // Only the last operation is followed: its start is the last `operation_started`.
    std::size_t last_start = 0;
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].find("\"type\":\"operation_started\"") != std::string::npos) last_start = i;
    progress_tracker describer{""};
    progress_tracker tracker{""};
    if (json_ && !inv_.has("follow")) {
      std::cout << "[";
      for (std::size_t i = 0; i < items.size(); ++i) std::cout << (i ? "," : "") << items[i];
      std::cout << "]\n";
      return code(exit_code::ok);
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      rapidjson::Document doc;
      doc.Parse(items[i].c_str(), items[i].size());
      auto text = describer.apply(doc);
      if (i >= last_start) tracker.apply(doc);
      if (json_)
        std::cout << items[i] << "\n";
      else
        print_event_line(doc, text);
    }
    if (!inv_.has("follow") || !is_busy(status) || tracker.settled()
        || tracker.status() == "DELETED") {
      if (inv_.has("follow") && tracker.finished() && tracker.outcome() != "succeeded")
        return code(exit_code::failed);
      return code(exit_code::ok);
    }
    auto saved_tty = tty_;
    // Following prints every event as a line, on a terminal too: the history above is lines.
    tty_ = false;
    auto rc = follow(*id, name, after, tracker, json_);
    tty_ = saved_tty;
    return rc;
  }

  int plan() {
    auto params = key_values("param");
    if (!params) return code(exit_code::usage);
    auto id = resolve_id(inv_.args[0]);
    if (!id) return code(exit_code::api_error);
    rapidjson::StringBuffer buf;
    json_writer w{buf};
    w.StartObject();
    w.Key("parameters");
    write_params(w, *params);
    w.EndObject();
    auto res = request("PATCH", "/deployments/" + *id + "?dry_run=true", buf.GetString(), {200});
    if (!res) return code(exit_code::api_error);
    return answer(res->body, [](const rapidjson::Document& doc) { return format_plan(doc); });
  }

  int update() {
    auto params = key_values("param");
    if (!params) return code(exit_code::usage);
    auto id = resolve_id(inv_.args[0]);
    if (!id) return code(exit_code::api_error);
    rapidjson::StringBuffer buf;
    json_writer w{buf};
    w.StartObject();
    w.Key("parameters");
    write_params(w, *params);
    w.EndObject();
    std::vector<std::pair<std::string, std::string>> headers;
    if (auto v = inv_.value("if-match"))
      headers.emplace_back("If-Match", v->front() == '"' ? *v : "\"" + *v + "\"");
    std::string body = buf.GetString();
    return operation(*id, "update",
                     [&] { return request("PATCH", "/deployments/" + *id, body, {202}, headers); });
  }

  int scale() {
    auto count = inv_.args[2];
    if (count.empty() || count.find_first_not_of("0123456789") != std::string::npos
        || count.size() > 9)
      return usage_failure("N must be a count (0 or more), not '" + count + "'", inv_.command);
    auto id = resolve_id(inv_.args[0]);
    if (!id) return code(exit_code::api_error);
    std::string body = "{\"target_count\": " + std::to_string(std::stol(count)) + ", \"vm_type\": ";
    rapidjson::StringBuffer buf;
    json_writer w{buf};
    write_string(w, inv_.args[1]);
    body += std::string{buf.GetString()} + "}";
    return operation(
      *id, "scale", [&] { return request("POST", "/deployments/" + *id + "/scale", body, {202}); });
  }

  int configure() {
    auto vars = key_values("extra-var");
    if (!vars) return code(exit_code::usage);
    auto id = resolve_id(inv_.args[0]);
    if (!id) return code(exit_code::api_error);
    rapidjson::StringBuffer buf;
    json_writer w{buf};
    w.StartObject();
    w.Key("playbook");
    write_string(w, inv_.args[1]);
    w.Key("extra_vars");
    write_params(w, *vars);
    w.EndObject();
    std::string body = buf.GetString();
    return operation(*id, "configure", [&] {
      return request("POST", "/deployments/" + *id + "/configure", body, {202});
    });
  }

  int remove() {
    auto id = resolve_id(inv_.args[0]);
    if (!id) return code(exit_code::api_error);
    return operation(*id, "delete",
                     [&] { return request("DELETE", "/deployments/" + *id, {}, {202}); });
  }

  int orphans() {
    bool cleanup = inv_.has("cleanup");
    auto res = cleanup ? request("POST", "/orphans/cleanup", {}, {200, 202})
                       : request("GET", "/orphans", {}, {200});
    if (!res) return code(exit_code::api_error);
    return answer(res->body,
                  [&](const rapidjson::Document& doc) { return format_orphans(doc, cleanup); });
  }

  invocation inv_;
  settings cfg_;
  api_client api_;
  bool json_;
  bool tty_;
};

} // namespace

int main(int argc, char** argv) {
  // The HTTP client logs through spdlog; orchctl reports failures itself.
  orch::logger("orch.openstack")->set_level(spdlog::level::off);
  auto parsed = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (auto err = std::get_if<usage_error>(&parsed))
    return usage_failure(err->message, err->command);
  auto& inv = std::get<invocation>(parsed);
  if (inv.command == "help") {
    if (!inv.args.empty()) {
      std::string name = inv.args[0] + (inv.args.size() > 1 ? " " + inv.args[1] : "");
      auto cmd = find_command(name);
      if (cmd == nullptr && inv.args[0] == "template") cmd = find_command("template apply");
      if (cmd == nullptr) return usage_failure("unknown command '" + name + "'");
      std::cout << command_help(*cmd);
    } else {
      std::cout << general_help();
    }
    return 0;
  }
  if (inv.help) {
    std::cout << command_help(*find_command(inv.command));
    return 0;
  }
  if (inv.command == "version") {
    std::cout << "orchctl " << ORCH_VERSION << "\n";
    return 0;
  }
  if (inv.command == "completion") {
    if (inv.args[0] != "bash")
      return usage_failure("only bash completion is offered, not '" + inv.args[0] + "'",
                           inv.command);
    std::cout << bash_completion();
    return 0;
  }
  auto env = environment();
  config_file file;
  auto explicit_config = inv.value("config");
  if (!explicit_config && env.count("ORCH_CONFIG") && !env["ORCH_CONFIG"].empty())
    explicit_config = env["ORCH_CONFIG"];
  auto path = explicit_config ? *explicit_config : config_path(env);
  if (!path.empty()) {
    std::ifstream in{path};
    if (!in && explicit_config) return usage_failure("cannot read the config file " + path);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      auto parsed_file = parse_config_file(text.str());
      if (auto why = std::get_if<std::string>(&parsed_file))
        return usage_failure(path + ": " + *why);
      file = std::get<config_file>(parsed_file);
    }
  }
  auto resolved = resolve_settings(inv.value("url"), inv.value("api-key"), env, file);
  if (auto problems = std::get_if<std::vector<std::string>>(&resolved)) {
    for (auto& p : *problems) std::cerr << "orchctl: " << p << "\n";
    return code(exit_code::usage);
  }
  app cli{std::move(inv), std::get<settings>(resolved)};
  return cli.run();
}
