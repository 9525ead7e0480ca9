#include "orch/sim/cloud.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include <rapidjson/error/en.h>

#include "service.hpp"

namespace orch::sim {

namespace {

bool iequals(std::string_view x, std::string_view y) {
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a))
                  == std::tolower(static_cast<unsigned char>(b));
         });
}

std::string_view find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view name) {
  for (auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> result;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    result.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> result;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    auto end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    auto part = query.substr(pos, end - pos);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos)
        result.emplace_back(percent_decode(part), std::string{});
      else
        result.emplace_back(percent_decode(part.substr(0, eq)),
                            percent_decode(part.substr(eq + 1)));
    }
    pos = end + 1;
  }
  return result;
}

service_family family_of_path(std::string_view path) {
  auto segs = split_path(path);
  if (segs.empty()) return service_family::control;
  if (segs[0] == "identity") return service_family::identity;
  if (segs[0] == "compute") return service_family::compute;
  if (segs[0] == "networking") return service_family::network;
  if (segs[0] == "volume") return service_family::volume;
  if (segs[0] == "image") return service_family::image;
  return service_family::control;
}

/// Parses `X.Y` into X * 1000 + Y.
std::optional<int> parse_version(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size()) return std::nullopt;
  int major = 0;
  int minor = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == dot) continue;
    if (!std::isdigit(static_cast<unsigned char>(text[i])) || (i < dot ? major : minor) > 10000)
      return std::nullopt;
    (i < dot ? major : minor) = (i < dot ? major : minor) * 10 + (text[i] - '0');
  }
  return major * 1000 + minor;
}

std::string version_text(int v) {
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000);
}

constexpr int nova_min = 2001;
constexpr int nova_max = 2101;
constexpr int cinder_min = 3000;
constexpr int cinder_max = 3071;

} // namespace

// -- request / response ---------------------------------------------------------------------

std::string_view request::header(std::string_view name) const noexcept {
  return find_header(headers, name);
}

std::string_view response::header(std::string_view name) const noexcept {
  return find_header(headers, name);
}

std::optional<std::string> call::arg(std::string_view key) const {
  for (auto& [k, v] : query)
    if (k == key) return v;
  return std::nullopt;
}

std::vector<std::string> call::args(std::string_view key) const {
  std::vector<std::string> result;
  for (auto& [k, v] : query)
    if (k == key) result.push_back(v);
  return result;
}

// -- configuration parsing ---------------------------------------------------------------------

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text == "0") return std::chrono::milliseconds{0};
  size_t i = 0;
  double value = 0;
  bool digits = false;
  double scale = 0;
  for (; i < text.size(); ++i) {
    char ch = text[i];
    if (std::isdigit(static_cast<unsigned char>(ch))) {
      digits = true;
      if (scale > 0) {
        value += (ch - '0') * scale;
        scale /= 10;
      } else {
        value = value * 10 + (ch - '0');
      }
    } else if (ch == '.' && scale == 0) {
      scale = 0.1;
    } else {
      break;
    }
  }
  if (!digits) return std::nullopt;
  auto unit = text.substr(i);
  double factor = 0;
  if (unit == "ms")
    factor = 1;
  else if (unit == "s")
    factor = 1000;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else
    return std::nullopt;
  return std::chrono::milliseconds{static_cast<int64_t>(value * factor)};
}

std::optional<duration_dist> duration_dist::parse(std::string_view text) {
  duration_dist result;
  if (text == "never") {
    result.never = true;
    return result;
  }
  if (text.starts_with("fixed:")) {
    auto d = parse_duration(text.substr(6));
    if (!d) return std::nullopt;
    result.low = result.high = *d;
    return result;
  }
  if (text.starts_with("uniform:")) {
    auto range = text.substr(8);
    auto sep = range.find("..");
    if (sep == std::string_view::npos) return std::nullopt;
    auto lo = parse_duration(range.substr(0, sep));
    auto hi = parse_duration(range.substr(sep + 2));
    if (!lo || !hi || *hi < *lo) return std::nullopt;
    result.low = *lo;
    result.high = *hi;
    return result;
  }
  return std::nullopt;
}

std::optional<user_account> user_account::parse(std::string_view text) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    auto end = text.find(':', pos);
    parts.emplace_back(text.substr(pos, end == std::string_view::npos ? end : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  if (parts.size() < 2 || parts.size() > 4) return std::nullopt;
  for (auto& part : parts)
    if (part.empty()) return std::nullopt;
  user_account result;
  result.name = parts[0];
  result.password = parts[1];
  if (parts.size() > 2) result.project = parts[2];
  if (parts.size() > 3) result.domain = parts[3];
  return result;
}

// -- time and text ------------------------------------------------------------------------

namespace {

std::string format_time(time_point t, bool micros, bool zone) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(us / 1'000'000);
  if (us < 0 && us % 1'000'000 != 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string result{buf, n};
  if (micros) {
    std::snprintf(buf, sizeof(buf), ".%06lld",
                  static_cast<long long>(((us % 1'000'000) + 1'000'000) % 1'000'000));
    result += buf;
  }
  if (zone) result += 'Z';
  return result;
}

} // namespace

std::string iso_seconds(time_point t) {
  return format_time(t, false, true);
}

std::string iso_micros(time_point t) {
  return format_time(t, true, true);
}

std::string iso_micros_naive(time_point t) {
  return format_time(t, true, false);
}

std::optional<time_point> parse_iso(std::string_view text) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int used = 0;
  std::string copy{text};
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &used)
      != 6)
    return std::nullopt;
  auto rest = text.substr(static_cast<size_t>(used));
  int64_t micros = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    int64_t scale = 100'000;
    for (; i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i])); ++i) {
      micros += (rest[i] - '0') * scale;
      scale /= 10;
    }
    rest = rest.substr(i);
  }
  int offset_minutes = 0;
  if (rest == "Z" || rest == "z" || rest.empty()) {
    // UTC
  } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
    int h = 0, m = 0;
    if (std::sscanf(std::string{rest.substr(1)}.c_str(), "%2d:%2d", &h, &m) != 2)
      return std::nullopt;
    offset_minutes = (rest[0] == '+' ? 1 : -1) * (h * 60 + m);
  } else {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto secs = timegm(&tm);
  return time_point{std::chrono::seconds{secs - offset_minutes * 60}
                    + std::chrono::microseconds{micros}};
}

std::string percent_decode(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (ch == '+') {
      result += ' ';
    } else if (ch == '%' && i + 2 < text.size()
               && std::isxdigit(static_cast<unsigned char>(text[i + 1]))
               && std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      result += static_cast<char>(std::stoi(std::string{text.substr(i + 1, 2)}, nullptr, 16));
      i += 2;
    } else {
      result += ch;
    }
  }
  return result;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string result;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      result += static_cast<char>(ch);
    } else {
      result += '%';
      result += hex[ch >> 4];
      result += hex[ch & 15];
    }
  }
  return result;
}

// -- answers ----------------------------------------------------------------------------------

response json_response(int status, std::string body) {
  response result;
  result.status = status;
  result.headers.emplace_back("Content-Type", "application/json");
  result.body = std::move(body);
  return result;
}

response empty_response(int status) {
  response result;
  result.status = status;
  return result;
}

namespace {

std::string_view nova_fault_name(int status) {
  switch (status) {
    case 400: return "badRequest";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "itemNotFound";
    case 405: return "badMethod";
    case 409: return "conflictingRequest";
    case 413:
    case 429: return "overLimit";
    case 415: return "badMediaType";
    case 501: return "notImplemented";
    case 503: return "serviceUnavailable";
    default: return "computeFault";
  }
}

std::string_view keystone_title(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

std::string_view neutron_type(int status) {
  switch (status) {
    case 400: return "HTTPBadRequest";
    case 401: return "HTTPUnauthorized";
    case 403: return "HTTPForbidden";
    case 404: return "HTTPNotFound";
    case 405: return "HTTPMethodNotAllowed";
    case 409: return "HTTPConflict";
    case 413: return "HTTPRequestEntityTooLarge";
    case 429: return "HTTPTooManyRequests";
    case 503: return "ServiceUnavailable";
    default: return "HTTPInternalServerError";
  }
}

} // namespace

response nova_fault(int status, std::string_view message, std::optional<int> retry_after) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  write_str(w, nova_fault_name(status));
  w.StartObject();
  w.Key("code");
  w.Int(status);
  w.Key("message");
  write_str(w, message);
  if (retry_after && (status == 413 || status == 429)) {
    w.Key("retryAfter");
    write_str(w, std::to_string(*retry_after));
  }
  w.EndObject();
  w.EndObject();
  auto result = json_response(status, buf.GetString());
  if (retry_after) result.headers.emplace_back("Retry-After", std::to_string(*retry_after));
  return result;
}

response neutron_error(int status, std::string_view type, std::string_view message) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("NeutronError");
  w.StartObject();
  w.Key("type");
  write_str(w, type);
  w.Key("message");
  write_str(w, message);
  w.Key("detail");
  w.String("");
  w.EndObject();
  w.EndObject();
  return json_response(status, buf.GetString());
}

response keystone_error(int status, std::string_view message) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.Int(status);
  w.Key("title");
  write_str(w, keystone_title(status));
  w.Key("message");
  write_str(w, message);
  w.EndObject();
  w.EndObject();
  return json_response(status, buf.GetString());
}

response family_error(service_family family, int status, std::string_view message,
                      std::optional<int> retry_after) {
  response result;
  switch (family) {
    case service_family::compute:
    case service_family::volume: return nova_fault(status, message, retry_after);
    case service_family::network:
      result = neutron_error(status, neutron_type(status), message);
      break;
    case service_family::image:
      result.status = status;
      result.headers.emplace_back("Content-Type", "text/plain; charset=UTF-8");
      result.body = std::to_string(status) + " " + std::string{keystone_title(status)} + "\n\n"
                    + std::string{message} + "\n\n   ";
      break;
    default: result = keystone_error(status, message);
  }
  if (retry_after) result.headers.emplace_back("Retry-After", std::to_string(*retry_after));
  return result;
}

std::optional<rapidjson::Document> parse_body(const request& req) {
  rapidjson::Document doc;
  doc.Parse(req.body.data(), req.body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  return doc;
}

void write_str(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string render(const std::function<void(json_writer&)>& fn) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  fn(w);
  return buf.GetString();
}

response single(int status, std::string_view key, const std::function<void(json_writer&)>& fn) {
  return json_response(status, render([&](json_writer& w) {
                         w.StartObject();
                         write_str(w, key);
                         fn(w);
                         w.EndObject();
                       }));
}

response neutron_bad_request(std::string_view message) {
  return neutron_error(400, "HTTPBadRequest", message);
}

std::optional<std::string> opt_string(const rapidjson::Value& body, const char* key) {
  if (body.HasMember(key) && body[key].IsString()) return std::string{str_of(body[key])};
  return std::nullopt;
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> result;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) result.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return result;
}

void write_opt(json_writer& w, const std::optional<std::string>& s) {
  if (s)
    write_str(w, *s);
  else
    w.Null();
}

void write_strings(json_writer& w, const std::vector<std::string>& xs) {
  w.StartArray();
  for (auto& x : xs) write_str(w, x);
  w.EndArray();
}

void write_map(json_writer& w, const std::map<std::string, std::string>& xs) {
  w.StartObject();
  for (auto& [k, v] : xs) {
    write_str(w, k);
    write_str(w, v);
  }
  w.EndObject();
}

std::string_view str_of(const rapidjson::Value& v) {
  return v.IsString() ? std::string_view{v.GetString(), v.GetStringLength()} : std::string_view{};
}

// -- state -------------------------------------------------------------------------------------

impl_state::impl_state(cloud_config config) : cfg(std::move(config)) {
  reset();
}

std::string impl_state::new_uuid() {
  auto hi = rng();
  auto lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

std::string impl_state::new_hex_id() {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

std::string impl_state::new_token_id() {
  // Fernet tokens are url-safe base64 starting with gAAAAA; clients treat them as opaque.
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string result = "gAAAAA";
  for (int i = 0; i < 13; ++i) {
    auto bits = rng();
    for (int j = 0; j < 10; ++j, bits >>= 6) result += alphabet[bits & 63];
  }
  return result;
}

std::string impl_state::new_mac() {
  auto bits = rng();
  char buf[24];
  std::snprintf(buf, sizeof(buf), "fa:16:3e:%02x:%02x:%02x", static_cast<unsigned>(bits & 0xff),
                static_cast<unsigned>((bits >> 8) & 0xff),
                static_cast<unsigned>((bits >> 16) & 0xff));
  return buf;
}

std::chrono::milliseconds impl_state::draw(const duration_dist& d) {
  if (d.high <= d.low) return d.low;
  std::uniform_int_distribution<int64_t> dist{d.low.count(), d.high.count()};
  return std::chrono::milliseconds{dist(rng)};
}

void impl_state::schedule(time_point now, const duration_dist& d, event_kind kind,
                          const std::string& id, uint64_t generation, std::string arg) {
  if (d.never) return;
  events.push(event{now + draw(d), ++seq, kind, id, generation, std::move(arg)});
}

const flavor* impl_state::find_flavor(std::string_view id_or_name) const {
  for (auto& f : flavors)
    if (f.id == id_or_name) return &f;
  return nullptr;
}

const image* impl_state::find_image(std::string_view id) const {
  for (auto& i : images)
    if (i.id == id) return &i;
  return nullptr;
}

const project* impl_state::find_project(std::string_view id) const {
  auto i = projects.find(std::string{id});
  return i == projects.end() ? nullptr : &i->second;
}

void impl_state::reset() {
  rng.seed(cfg.seed);
  seq = 0;
  projects.clear();
  users.clear();
  tokens.clear();
  networks.clear();
  subnets.clear();
  ports.clear();
  routers.clear();
  security_groups.clear();
  security_group_rules.clear();
  floating_ips.clear();
  keypairs.clear();
  servers.clear();
  server_order.clear();
  deleted_servers.clear();
  volumes.clear();
  volume_order.clear();
  events = {};
  faults.clear();
  failing_boots = 0;

  std::map<std::string, domain_ref> domains;
  for (auto& account : cfg.users) {
    auto& dom = domains[account.domain];
    if (dom.name.empty()) {
      dom.name = account.domain;
      dom.id = account.domain == "Default" ? "default" : new_hex_id();
    }
    const project* proj = nullptr;
    for (auto& [id, p] : projects)
      if (p.name == account.project && p.domain.id == dom.id) proj = &p;
    if (proj == nullptr) {
      project p{new_hex_id(), account.project, dom};
      proj = &(projects[p.id] = p);
    }
    user u{new_hex_id(), account.name, account.password, dom, proj->id};
    users[u.id] = u;
  }

  flavors = {{"1", "m1.tiny", 1, 512, 1},
             {"2", "m1.small", 1, 2048, 20},
             {"3", "m1.medium", 2, 4096, 40},
             {"4", "m1.large", 4, 8192, 80},
             {"5", "m1.xlarge", 8, 16384, 160}};
  auto created = std::string{"2026-01-01T00:00:00Z"};
  images.clear();
  images.push_back(image{new_uuid(), "cirros", "active", "qcow2", "cirros", 21430272, 0,
                         "c8fc807773e5354afe61636071771906", created});
  images.push_back(image{new_uuid(), "ubuntu-22.04", "active", "qcow2", "ubuntu", 672137216, 3,
                         "2f2e7a7ff3cc6ed2b6b3bf6ae1a25c3e", created});

  // The external network every router gateway points at, owned by the first project.
  auto owner = projects.empty() ? std::string{} : projects.begin()->first;
  network pub;
  pub.id = new_uuid();
  pub.name = "public";
  pub.project_id = owner;
  pub.external = true;
  pub.mtu = 1500;
  pub.revision = 1;
  pub.created = pub.updated = created;
  subnet sn;
  sn.id = new_uuid();
  sn.name = "public-subnet";
  sn.network_id = pub.id;
  sn.project_id = owner;
  auto net = *parse_cidr("172.24.4.0/24");
  sn.ip_version = 4;
  sn.base = net.base;
  sn.prefix = net.prefix;
  sn.gateway = 1;
  sn.pools = {{2, 254}};
  sn.enable_dhcp = false;
  sn.revision = 1;
  sn.created = sn.updated = created;
  pub.subnets.push_back(sn.id);
  public_network_id = pub.id;
  subnets[sn.id] = std::move(sn);
  networks[pub.id] = std::move(pub);
  for (auto& [id, p] : projects)
    default_security_group(*this, id, time_point{std::chrono::seconds{1767225600}});
}

void impl_state::advance(time_point now) {
  while (!events.empty() && events.top().due <= now) {
    auto ev = events.top();
    events.pop();
    auto at = ev.due;
    switch (ev.kind) {
      case event_kind::server_built:
      case event_kind::server_resized:
      case event_kind::server_resize_confirmed:
      case event_kind::server_resize_reverted:
      case event_kind::server_rebuilt:
      case event_kind::server_deleted: {
        auto i = servers.find(ev.id);
        if (i == servers.end() || i->second.generation != ev.generation) break;
        auto& s = i->second;
        s.updated = iso_seconds(at);
        s.updated_at = at;
        ++s.generation;
        if (ev.kind == event_kind::server_built) {
          s.task_state.clear();
          if (ev.arg == "fail") {
            s.vm_state = "error";
            s.fault = server_fault{500,
                                   "No valid host was found. There are not enough hosts "
                                   "available.",
                                   iso_seconds(at)};
          } else {
            s.vm_state = "active";
            s.power_state = 1;
            s.launched_at = iso_micros_naive(at);
            s.host_id = new_hex_id() + new_hex_id().substr(0, 24);
          }
        } else if (ev.kind == event_kind::server_resized) {
          s.old_flavor_id = s.flavor_id;
          s.flavor_id = ev.arg;
          s.vm_state = "resized";
          s.task_state.clear();
        } else if (ev.kind == event_kind::server_resize_confirmed) {
          s.old_flavor_id.clear();
          s.vm_state = s.pre_resize_vm_state.empty() ? "active" : s.pre_resize_vm_state;
        } else if (ev.kind == event_kind::server_resize_reverted) {
          s.flavor_id = s.old_flavor_id;
          s.old_flavor_id.clear();
          s.vm_state = s.pre_resize_vm_state.empty() ? "active" : s.pre_resize_vm_state;
          s.task_state.clear();
        } else if (ev.kind == event_kind::server_rebuilt) {
          s.vm_state = "active";
          s.power_state = 1;
          s.task_state.clear();
          s.fault.reset();
        } else {
          on_server_deleted(ev.id, at);
        }
        break;
      }
      case event_kind::volume_created:
      case event_kind::volume_attached:
      case event_kind::volume_detached:
      case event_kind::volume_deleted: {
        auto i = volumes.find(ev.id);
        if (i == volumes.end() || i->second.generation != ev.generation) break;
        auto& v = i->second;
        ++v.generation;
        v.updated = iso_micros_naive(at);
        if (ev.kind == event_kind::volume_created) {
          v.status = "available";
        } else if (ev.kind == event_kind::volume_attached) {
          v.status = "in-use";
        } else if (ev.kind == event_kind::volume_detached) {
          v.attachments.clear();
          v.status = "available";
        } else {
          volume_order.erase(v.seq);
          volumes.erase(i);
        }
        break;
      }
    }
  }
}

void impl_state::on_server_deleted(const std::string& id, time_point now) {
  auto i = servers.find(id);
  if (i == servers.end()) return;
  auto& s = i->second;
  for (auto& nic : s.nics) {
    if (nic.created_by_nova) {
      delete_port(nic.port_id);
    } else if (auto p = ports.find(nic.port_id); p != ports.end()) {
      p->second.device_id.clear();
      p->second.device_owner.clear();
    }
  }
  for (auto& att : s.volumes) {
    auto v = volumes.find(att.volume_id);
    if (v == volumes.end()) continue;
    if (att.delete_on_termination) {
      volume_order.erase(v->second.seq);
      volumes.erase(v);
    } else {
      v->second.attachments.clear();
      v->second.status = "available";
      ++v->second.generation;
    }
  }
  deleted_servers.push_back(server_tombstone{s.id, s.name, s.project_id, s.user_id, s.flavor_id,
                                             s.image_id, s.created, iso_seconds(now), now});
  server_order.erase(s.seq);
  servers.erase(i);
}

// -- routing ----------------------------------------------------------------------------------

void add_route(impl_state& st, service_family family, std::string service, std::string method,
               std::string pattern, route_fn fn, bool needs_auth) {
  route r;
  r.method = std::move(method);
  r.family = family;
  r.service = std::move(service);
  for (auto seg : split_path(pattern)) r.segments.emplace_back(seg);
  r.pattern = std::move(pattern);
  r.needs_auth = needs_auth;
  r.fn = std::move(fn);
  st.routes.push_back(std::move(r));
}

struct cloud::impl {
  impl_state st;

  explicit impl(cloud_config cfg) : st(std::move(cfg)) {
    add_keystone_routes(st);
    add_nova_routes(st);
    add_neutron_routes(st);
    add_security_group_routes(st);
    add_floating_ip_routes(st);
    add_cinder_routes(st);
    add_glance_routes(st);
    add_control_routes(st);
  }

  /// Whether `rule` hits this call; updates its counters.
  bool hits(fault_rule& rule, const route* r, std::string_view method) {
    if (rule.remaining == 0) return false;
    if (rule.method != "*" && rule.method != method) return false;
    if (rule.route != "*" && (r == nullptr || rule.route != r->pattern)) return false;
    ++rule.matched;
    if (rule.nth != 0 && rule.matched != rule.nth) return false;
    if (rule.rate < 1.0) {
      std::uniform_real_distribution<double> dist{0.0, 1.0};
      if (dist(st.rng) >= rule.rate) return false;
    }
    ++rule.hits;
    if (rule.remaining > 0) --rule.remaining;
    return true;
  }

  response dispatch(const request& req, time_point now) {
    auto segs = split_path(req.path);
    // Nova answers on both `/v2.1` and `/v2.1/<project_id>`; drop the project segment.
    std::vector<std::string_view> norm;
    norm.reserve(segs.size());
    for (size_t i = 0; i < segs.size(); ++i) {
      if (i == 2 && segs[0] == "compute" && segs[1] == "v2.1" && st.find_project(segs[2])) continue;
      norm.push_back(segs[i]);
    }
    route* found = nullptr;
    bool path_known = false;
    call c{req, now, nullptr, {}, {}, nullptr, 0, {}};
    for (auto& r : st.routes) {
      if (r.segments.size() != norm.size()) continue;
      bool ok = true;
      for (size_t i = 0; i < norm.size() && ok; ++i)
        ok = r.segments[i].front() == '{' || r.segments[i] == norm[i];
      if (!ok) continue;
      path_known = true;
      if (r.method == req.method || (req.method == "HEAD" && r.method == "GET" && !found)) {
        found = &r;
        if (r.method == req.method) break;
      }
    }
    auto family = found ? found->family : family_of_path(req.path);
    if (found) ++found->calls;

    // Faults come first: a rate limiter or broken proxy sits in front of the service.
    std::chrono::milliseconds extra{0};
    auto fault_answer = [&](const fault_rule& rule) {
      response res;
      if (rule.drop) {
        res.drop_connection = true;
      } else {
        res = family_error(family, rule.status,
                           rule.status == 429   ? "Rate limit exceeded."
                           : rule.status == 413 ? "Request rate limit exceeded."
                                                : "Injected fault.",
                           rule.retry_after);
      }
      res.delay = extra;
      return res;
    };
    // A proxy that fails after forwarding: the call below still runs, its answer is lost.
    std::optional<fault_rule> after;
    // The control API stays reachable whatever the rules say, so tests can always undo them.
    for (auto& rule : st.faults) {
      if (family == service_family::control || !hits(rule, found, req.method)) continue;
      extra += rule.latency;
      if (rule.drop || rule.status != 0) {
        if (!rule.after) return fault_answer(rule);
        after = rule;
        break;
      }
    }

    response res;
    if (!found) {
      res = path_known
              ? family_error(family, 405, "The method is not allowed for the requested URL.")
              : family_error(family, 404, "The resource could not be found.");
    } else {
      for (size_t i = 0; i < norm.size(); ++i)
        if (found->segments[i].front() == '{') c.params.push_back(percent_decode(norm[i]));
      c.matched = found;
      c.query = parse_query(req.query);
      res = serve(*found, c);
    }
    if (after) return fault_answer(*after);
    res.delay += extra;
    if (family == service_family::compute && c.microversion != 0) {
      auto v = version_text(c.microversion);
      res.headers.emplace_back("OpenStack-API-Version", "compute " + v);
      res.headers.emplace_back("X-OpenStack-Nova-API-Version", v);
      res.headers.emplace_back("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version");
    } else if (family == service_family::volume && c.microversion != 0) {
      res.headers.emplace_back("OpenStack-API-Version", "volume " + version_text(c.microversion));
      res.headers.emplace_back("Vary", "OpenStack-API-Version");
    }
    return res;
  }

  response serve(const route& r, call& c) {
    if (r.needs_auth) {
      auto tok = c.req.header("X-Auth-Token");
      auto i = st.tokens.find(std::string{tok});
      if (tok.empty() || i == st.tokens.end() || i->second.expires <= c.now) {
        auto res = keystone_error(401, "The request you have made requires authentication.");
        res.headers.emplace_back("WWW-Authenticate",
                                 "Keystone uri=\"" + st.cfg.base_url + "/identity\"");
        return res;
      }
      c.auth = &i->second;
    }
    if (r.family == service_family::compute || r.family == service_family::volume) {
      bool nova = r.family == service_family::compute;
      int lo = nova ? nova_min : cinder_min;
      int hi = nova ? nova_max : cinder_max;
      c.microversion = lo;
      std::string_view wanted;
      auto generic = c.req.header("OpenStack-API-Version");
      auto service = std::string_view{nova ? "compute " : "volume "};
      if (generic.starts_with(service))
        wanted = generic.substr(service.size());
      else if (nova)
        wanted = c.req.header("X-OpenStack-Nova-API-Version");
      if (!wanted.empty()) {
        if (wanted == "latest") {
          c.microversion = hi;
        } else {
          auto v = parse_version(wanted);
          if (!v)
            return nova_fault(400, "API Version String " + std::string{wanted}
                                     + " is of invalid format. Must be of format "
                                       "MajorNum.MinorNum.");
          if (*v < lo || *v > hi) {
            c.microversion = 0;
            return nova_fault(
              406, "Version " + std::string{wanted} + " is not supported by the API. Minimum is "
                     + version_text(lo) + " and maximum is " + version_text(hi) + ".");
          }
          c.microversion = *v;
        }
      }
    }
    return r.fn(st, c);
  }
};

cloud::cloud(cloud_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
  // nop
}

cloud::~cloud() = default;

response cloud::handle(const request& req, time_point now) {
  impl_->st.advance(now);
  auto res = impl_->dispatch(req, now);
  auto request_id = "req-" + impl_->st.new_uuid();
  res.headers.emplace_back("x-openstack-request-id", request_id);
  if (family_of_path(req.path) == service_family::compute)
    res.headers.emplace_back("x-compute-request-id", request_id);
  res.delay += impl_->st.cfg.latency;
  return res;
}

void cloud::set_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  impl_->st.cfg.base_url = std::move(url);
}

const cloud_config& cloud::config() const noexcept {
  return impl_->st.cfg;
}

std::string cloud::save_state() const {
  return save_snapshot(impl_->st);
}

std::optional<std::string> cloud::load_state(std::string_view snapshot) {
  auto error = load_snapshot(impl_->st, snapshot);
  if (error) impl_->st.reset();
  return error;
}

std::vector<active_server> cloud::active_servers(time_point now) {
  auto& st = impl_->st;
  st.advance(now);
  std::vector<active_server> result;
  for (const auto& [id, s] : st.servers) {
    if (s.vm_state != "active") continue;
    active_server entry{id, {}, {}};
    for (const auto& nic : s.nics)
      if (auto p = st.ports.find(nic.port_id); p != st.ports.end())
        for (const auto& ip : p->second.fixed_ips)
          if (ip.ip_address.find(':') == std::string::npos)
            entry.addresses.push_back(ip.ip_address);
    if (s.key_name)
      if (auto k = st.keypairs.find({s.user_id, *s.key_name}); k != st.keypairs.end())
        entry.public_key = k->second.public_key;
    result.push_back(std::move(entry));
  }
  std::sort(result.begin(), result.end(),
            [](const active_server& x, const active_server& y) { return x.id < y.id; });
  return result;
}

std::string cloud::dump_state(time_point now) {
  request req;
  req.method = "GET";
  req.path = "/_sim/state";
  return impl_->dispatch(req, now).body;
}

} // namespace orch::sim
