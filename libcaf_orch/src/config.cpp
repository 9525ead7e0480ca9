#include "orch/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>

#include "orch/errc.hpp"

namespace orch {

namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool is_variable_name(std::string_view name) noexcept {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string lower(std::string_view text) {
  std::string result{text};
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return result;
}

/// The rest of a line after a closing quote may hold only a comment.
bool only_comment_left(std::string_view rest) noexcept {
  rest = trim(rest);
  return rest.empty() || rest.front() == '#';
}

/// Parses a value that starts with a double quote; `nullopt` if unterminated or followed by
/// more than a comment.
std::optional<std::string> parse_double_quoted(std::string_view rest, std::string& why) {
  std::string value;
  for (size_t i = 1; i < rest.size(); ++i) {
    auto c = rest[i];
    if (c == '"') {
      if (!only_comment_left(rest.substr(i + 1))) {
        why = "unexpected text after the closing quote";
        return std::nullopt;
      }
      return value;
    }
    if (c == '\\' && i + 1 < rest.size()) {
      auto next = rest[++i];
      switch (next) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case '"': value += '"'; break;
        case '\\': value += '\\'; break;
        default: value += '\\'; value += next;
      }
      continue;
    }
    value += c;
  }
  why = "unterminated double-quoted value";
  return std::nullopt;
}

std::optional<std::string> parse_single_quoted(std::string_view rest, std::string& why) {
  auto close = rest.find('\'', 1);
  if (close == std::string_view::npos) {
    why = "unterminated single-quoted value";
    return std::nullopt;
  }
  if (!only_comment_left(rest.substr(close + 1))) {
    why = "unexpected text after the closing quote";
    return std::nullopt;
  }
  return std::string{rest.substr(1, close - 1)};
}

std::string unquoted_value(std::string_view rest) {
  for (size_t i = 1; i < rest.size(); ++i)
    if (rest[i] == '#' && is_space(rest[i - 1])) return std::string{trim(rest.substr(0, i))};
  if (!rest.empty() && rest.front() == '#') return {};
  return std::string{trim(rest)};
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> result;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    result.push_back(trim(text.substr(start, comma - start)));
    start = comma + 1;
  }
  return result;
}

std::string percent_decode(std::string_view text) {
  std::string result;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      unsigned value = 0;
      auto first = text.data() + i + 1;
      auto [ptr, ec] = std::from_chars(first, first + 2, value, 16);
      if (ec == std::errc{} && ptr == first + 2) {
        result += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    result += text[i];
  }
  return result;
}

/// Raw (still percent-encoded) passwords inside a PostgreSQL URI.
std::vector<std::string> raw_url_passwords(std::string_view url) {
  std::vector<std::string> result;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return result;
  auto rest = url.substr(scheme_end + 3);
  auto query_start = rest.find('?');
  auto head = rest.substr(0, query_start);
  // The last '@' ends the user info, so an unescaped '/' or '@' inside a password still counts.
  if (auto at = head.rfind('@'); at != std::string_view::npos) {
    auto user_info = head.substr(0, at);
    if (auto colon = user_info.find(':'); colon != std::string_view::npos)
      if (colon + 1 < user_info.size()) result.emplace_back(user_info.substr(colon + 1));
  }
  if (query_start != std::string_view::npos) {
    auto query = rest.substr(query_start + 1);
    size_t start = 0;
    while (start < query.size()) {
      auto amp = query.find('&', start);
      if (amp == std::string_view::npos) amp = query.size();
      auto param = query.substr(start, amp - start);
      if (param.substr(0, 9) == "password=" && param.size() > 9)
        result.emplace_back(param.substr(9));
      start = amp + 1;
    }
  }
  return result;
}

/// Shows a non-secret value in an error message: bounded and printable.
std::string shown(std::string_view value) {
  constexpr size_t max_shown = 64;
  std::string result = "\"";
  for (size_t i = 0; i < value.size() && i < max_shown; ++i) {
    auto c = value[i];
    if (c == '"' || c == '\\') result += '\\';
    result += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
  }
  if (value.size() > max_shown) result += "...";
  result += '"';
  return result;
}

bool starts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.substr(0, prefix.size()) == prefix;
}

bool is_http_url(std::string_view text) noexcept {
  return (starts_with(text, "http://") && text.size() > 7)
         || (starts_with(text, "https://") && text.size() > 8);
}

bool has_space(std::string_view text) noexcept {
  return std::any_of(text.begin(), text.end(), is_space);
}

/// `host:port` with a non-empty host (IPv6 in brackets) and a port in `min_port..65535`.
bool is_host_port(std::string_view text, int min_port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || has_space(text)) return false;
  auto host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos
      && (host.front() != '[' || host.back() != ']' || host.size() < 3))
    return false;
  auto port_text = text.substr(colon + 1);
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  return ec == std::errc{} && ptr == port_text.data() + port_text.size() && !port_text.empty()
         && port_text[0] != '+' && port >= min_port && port <= 65535;
}

/// Reads variables and collects every problem, in the order the checks run.
class reader {
public:
  explicit reader(const env_map& env) : env_(env) {
    // nop
  }

  /// The value of `name`; empty values count as unset.
  std::optional<std::string_view> get(const std::string& name) const {
    auto i = env_.find(name);
    if (i == env_.end() || trim(i->second).empty()) return std::nullopt;
    return trim(i->second);
  }

  std::optional<std::string_view> required(const std::string& name) {
    auto value = get(name);
    if (!value) problem("missing " + name);
    return value;
  }

  void string(const std::string& name, std::string& out) {
    if (auto value = get(name)) out = std::string{*value};
  }

  /// `true`/`false`/`1`/`0`, case-insensitive.
  void boolean(const std::string& name, bool& out) {
    auto value = get(name);
    if (!value) return;
    auto text = lower(*value);
    if (text == "true" || text == "1")
      out = true;
    else if (text == "false" || text == "0")
      out = false;
    else
      problem(name + " must be true, false, 1 or 0 (got " + shown(*value) + ")");
  }

  template <class Int>
  void integer(const std::string& name, long long min, long long max, Int& out) {
    auto value = get(name);
    if (!value) return;
    long long parsed = 0;
    auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), parsed);
    if (ec != std::errc{} || ptr != value->data() + value->size() || parsed < min || parsed > max) {
      problem(name + " must be an integer " + std::to_string(min) + ".." + std::to_string(max)
              + " (got " + shown(*value) + ")");
      return;
    }
    out = static_cast<Int>(parsed);
  }

  void problem(std::string text) { problems_.push_back(std::move(text)); }

  bool ok() const noexcept { return problems_.empty(); }

  std::string joined() const {
    std::string result;
    for (const auto& p : problems_) {
      if (!result.empty()) result += "; ";
      result += p;
    }
    return result;
  }

private:
  const env_map& env_;
  std::vector<std::string> problems_;
};

void read_database(reader& in, database_config& out) {
  if (auto url = in.required("DATABASE_URL")) {
    // The URL holds the password: name the rule, never echo the value.
    if (!starts_with(*url, "postgresql://") && !starts_with(*url, "postgres://"))
      in.problem("DATABASE_URL must start with postgresql:// or postgres://");
    else if (has_space(*url))
      in.problem("DATABASE_URL must not contain whitespace");
    else
      out.url = std::string{*url};
  }
  in.integer("DATABASE_POOL_SIZE", 1, 256, out.pool_size);
  in.integer("DATABASE_API_POOL_SIZE", 1, 256, out.api_pool_size);
}

void read_log(reader& in, log_config& out) {
  if (auto level = in.get("LOG_LEVEL")) {
    auto name = lower(*level);
    if (name == "trace")
      out.level = spdlog::level::trace;
    else if (name == "debug")
      out.level = spdlog::level::debug;
    else if (name == "info")
      out.level = spdlog::level::info;
    else if (name == "warn" || name == "warning")
      out.level = spdlog::level::warn;
    else if (name == "error")
      out.level = spdlog::level::err;
    else if (name == "critical")
      out.level = spdlog::level::critical;
    else if (name == "off")
      out.level = spdlog::level::off;
    else
      in.problem("LOG_LEVEL must be one of trace, debug, info, warn, error, critical, off (got "
                 + shown(*level) + ")");
  }
  if (auto format = in.get("LOG_FORMAT")) {
    auto name = lower(*format);
    if (name == "json")
      out.format = log_format::json;
    else if (name == "text")
      out.format = log_format::text;
    else
      in.problem("LOG_FORMAT must be json or text (got " + shown(*format) + ")");
  }
}

void read_api_keys(reader& in, std::vector<api_key>& out) {
  auto text = in.required("API_KEYS");
  if (!text) return;
  std::set<std::string_view> seen;
  auto entries = split_list(*text);
  for (size_t i = 0; i < entries.size(); ++i) {
    // Entries are named by position: their text is a key.
    auto where = "API_KEYS entry " + std::to_string(i + 1);
    auto entry = entries[i];
    auto colon = entry.rfind(':');
    if (entry.empty()) {
      in.problem(where + " is empty");
      continue;
    }
    if (colon == std::string_view::npos) {
      in.problem(where + " must be key:scope with scope read or write");
      continue;
    }
    auto key = entry.substr(0, colon);
    auto scope = entry.substr(colon + 1);
    if (key.empty() || has_space(key)) {
      in.problem(where + " must have a non-empty key without whitespace");
      continue;
    }
    api_key parsed{std::string{key}, api_scope::read};
    if (scope == "write")
      parsed.scope = api_scope::write;
    else if (scope != "read") {
      in.problem(where + " has scope " + shown(scope) + ", must be read or write");
      continue;
    }
    if (!seen.insert(key).second) {
      in.problem(where + " repeats an earlier key");
      continue;
    }
    out.push_back(std::move(parsed));
  }
}

// A timeout in milliseconds, 100 ms .. 1 h.
void read_millis(reader& in, const std::string& name, std::chrono::milliseconds& out) {
  auto count = out.count();
  in.integer(name, 100, 3'600'000, count);
  out = std::chrono::milliseconds{count};
}

void read_http(reader& in, http_config& out) {
  if (auto host = in.get("API_HOST")) {
    if (has_space(*host))
      in.problem("API_HOST must be a host name or address (got " + shown(*host) + ")");
    else
      out.host = std::string{*host};
  }
  in.integer("API_PORT", 1, 65535, out.port);
  in.integer("API_WORKERS", 1, 256, out.workers);
  in.integer("MAX_BODY_BYTES", 1, 1073741824, out.max_body_bytes);
  in.integer("MAX_HEADER_BYTES", 1024, 1048576, out.max_header_bytes);
  in.integer("API_MAX_CONNECTIONS", 1, 1000000, out.max_connections);
  in.integer("SSE_MAX_SUBSCRIBERS", 1, 1000000, out.sse_max_subscribers);
  in.integer("RATE_LIMIT_PER_MINUTE", 1, 1000000, out.rate_limit_per_minute);
  in.integer("AUTH_FAILURES_PER_MINUTE", 1, 1000000, out.auth_failures_per_minute);
  read_millis(in, "API_HEADER_TIMEOUT_MS", out.header_timeout);
  read_millis(in, "API_BODY_TIMEOUT_MS", out.body_timeout);
  read_millis(in, "API_IDLE_TIMEOUT_MS", out.idle_timeout);
  if (auto origins = in.get("CORS_ORIGINS")) {
    for (auto origin : split_list(*origins)) {
      if (origin.empty()) continue;
      if (origin != "*" && !is_http_url(origin))
        in.problem("CORS_ORIGINS entries must be * or start with http:// or https:// (got "
                   + shown(origin) + ")");
      else
        out.cors_origins.emplace_back(origin);
    }
  }
  read_api_keys(in, out.api_keys);
}

void read_openstack(reader& in, openstack_config& out) {
  in.string("OPENSTACK_AUTH_URL", out.auth_url);
  in.string("OPENSTACK_USERNAME", out.username);
  in.string("OPENSTACK_PASSWORD", out.password);
  in.string("OPENSTACK_PROJECT_NAME", out.project_name);
  in.string("OPENSTACK_USER_DOMAIN_NAME", out.user_domain_name);
  in.string("OPENSTACK_PROJECT_DOMAIN_NAME", out.project_domain_name);
  in.string("OPENSTACK_REGION", out.region);
  in.string("OPENSTACK_CA_FILE", out.ca_file);
  in.boolean("OPENSTACK_INSECURE", out.insecure);
  if (!out.auth_url.empty()) {
    if (!is_http_url(out.auth_url))
      in.problem("OPENSTACK_AUTH_URL must start with http:// or https:// (got "
                 + shown(out.auth_url) + ")");
    for (auto name : {"OPENSTACK_USERNAME", "OPENSTACK_PASSWORD", "OPENSTACK_PROJECT_NAME"})
      if (!in.get(name))
        in.problem(std::string{name} + " is required when OPENSTACK_AUTH_URL is set");
  }
  if (auto allowlist = in.get("OPENSTACK_ENDPOINT_ALLOWLIST")) {
    for (auto entry : split_list(*allowlist)) {
      if (entry.empty()) continue;
      if (!is_http_url(entry))
        in.problem("OPENSTACK_ENDPOINT_ALLOWLIST entries must start with http:// or https:// "
                   "(got "
                   + shown(entry) + ")");
      else
        out.endpoint_allowlist.emplace_back(entry);
    }
  }
}

void read_cluster(reader& in, cluster_config& out) {
  if (auto node_id = in.get("NODE_ID")) {
    bool ok = node_id->size() <= 64 && std::all_of(node_id->begin(), node_id->end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                       || c == '.' || c == '_' || c == '-';
              });
    if (ok)
      out.node_id = std::string{*node_id};
    else
      in.problem("NODE_ID must be 1..64 letters, digits, '.', '_' or '-' (got " + shown(*node_id)
                 + ")");
  }
  if (auto bind = in.get("CLUSTER_BIND")) {
    if (is_host_port(*bind, 0))
      out.bind = std::string{*bind};
    else
      in.problem("CLUSTER_BIND must be host:port with port 0..65535 (got " + shown(*bind) + ")");
  }
  if (auto seeds = in.get("CLUSTER_SEEDS")) {
    for (auto seed : split_list(*seeds)) {
      if (seed.empty()) continue;
      if (is_host_port(seed, 1))
        out.seeds.emplace_back(seed);
      else
        in.problem("CLUSTER_SEEDS entries must be host:port with port 1..65535 (got " + shown(seed)
                   + ")");
    }
  }
}

// A duration such as `90s`, `10m`, `1h`, `500ms`, or bare seconds, within [min, max]; the
// bounds are given as text too, for the message.
void read_duration(reader& in, const std::string& name, std::chrono::milliseconds min,
                   std::chrono::milliseconds max, std::string_view bounds,
                   std::chrono::milliseconds& out) {
  auto text = in.get(name);
  if (!text) return;
  auto t = trim(*text);
  size_t digits = 0;
  while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
  auto unit = t.substr(digits);
  long long scale = 0;
  if (unit == "ms") scale = 1;
  if (unit.empty() || unit == "s") scale = 1000;
  if (unit == "m") scale = 60'000;
  if (unit == "h") scale = 3'600'000;
  // At most 10 digits keep the product inside 64 bits whatever the unit.
  std::chrono::milliseconds value{-1};
  if (digits > 0 && digits <= 10 && scale != 0)
    value = std::chrono::milliseconds{std::stoll(std::string{t.substr(0, digits)}) * scale};
  if (value < min || value > max) {
    in.problem(name + " must be a duration " + std::string{bounds} + " such as 90s, 10m or 1h (got "
               + shown(t) + ")");
    return;
  }
  out = value;
}

void read_ansible(reader& in, ansible_config& out) {
  in.string("ANSIBLE_PLAYBOOK_DIR", out.playbook_dir);
  in.string("ANSIBLE_SSH_KEY_PATH", out.ssh_key_path);
  in.integer("ANSIBLE_VERBOSITY", 0, 5, out.verbosity);
  using namespace std::chrono_literals;
  read_duration(in, "ANSIBLE_TIMEOUT", 1s, 24h, "from 1s to 24h", out.timeout);
}

void read_deployment(reader& in, deployment_config& out) {
  using namespace std::chrono_literals;
  read_duration(in, "VM_BOOT_TIMEOUT", 1s, 24h, "from 1s to 24h", out.vm_boot_timeout);
  read_duration(in, "VOLUME_TIMEOUT", 1s, 24h, "from 1s to 24h", out.volume_timeout);
  read_duration(in, "DELETE_TIMEOUT", 1s, 24h, "from 1s to 24h", out.delete_timeout);
  read_duration(in, "DEPLOYMENT_IDLE_TIMEOUT", 100ms, 24h, "from 100ms to 24h", out.idle_timeout);
  in.integer("MAX_ACTIVE_DEPLOYMENTS", 1, 1'000'000, out.max_active);
  in.integer("MAX_VM_GROUPS_PER_DEPLOYMENT", 1, 10'000, out.limits.max_vm_groups);
  in.integer("MAX_VMS_PER_DEPLOYMENT", 1, 1'000'000, out.limits.max_vms);
}

void read_cluster_timing(reader& in, cluster_config& out) {
  using namespace std::chrono_literals;
  read_duration(in, "CLUSTER_HEARTBEAT", 50ms, 1min, "from 50ms to 1m", out.heartbeat);
  read_duration(in, "CLUSTER_LEASE", 150ms, 10min, "from 150ms to 10m", out.lease);
  // A lease must survive a couple of missed heartbeats, or a single slow query loses it.
  if (out.lease < out.heartbeat * 3)
    in.problem("CLUSTER_LEASE must be at least three times CLUSTER_HEARTBEAT (got "
               + std::to_string(out.lease.count()) + "ms and "
               + std::to_string(out.heartbeat.count()) + "ms)");
}

void read_installation_id(reader& in, std::string& out) {
  auto text = in.get("ORCH_INSTALLATION_ID");
  if (!text) return;
  auto id = trim(*text);
  auto valid
    = !id.empty() && id.size() <= 64 && std::isalnum(static_cast<unsigned char>(id[0]))
      && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
         });
  if (!valid)
    in.problem("ORCH_INSTALLATION_ID must be 1..64 letters, digits, '.', '_' or '-', starting "
               "with a letter or digit (got "
               + shown(id) + ")");
  else
    out = std::string{id};
}

void read_secret_key(reader& in, std::string& out) {
  auto key = in.required("SECRET_KEY");
  if (!key) return;
  if (key->size() < 16)
    in.problem("SECRET_KEY must be at least 16 characters");
  else
    out = std::string{*key};
}

// Never echoes an entry: each one is a secret.
void read_previous_secret_keys(reader& in, std::vector<std::string>& out) {
  auto keys = in.get("SECRET_KEY_PREVIOUS");
  if (!keys) return;
  size_t position = 0;
  for (auto key : split_list(*keys)) {
    ++position;
    key = trim(key);
    if (key.empty()) continue;
    if (key.size() < 16)
      in.problem("SECRET_KEY_PREVIOUS entry " + std::to_string(position)
                 + " must be at least 16 characters");
    else
      out.emplace_back(key);
  }
}

} // namespace

env_map parse_dotenv(std::string_view text, std::vector<std::string>& errors) {
  env_map result;
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto line = trim(text.substr(start, end - start));
    start = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    if (starts_with(line, "export") && line.size() > 6 && is_space(line[6]))
      line = trim(line.substr(7));
    auto fail = [&](std::string_view why) {
      errors.push_back("line " + std::to_string(line_no) + ": " + std::string{why});
    };
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      fail("expected KEY=VALUE");
      continue;
    }
    auto key = trim(line.substr(0, eq));
    if (!is_variable_name(key)) {
      fail("invalid variable name (letters, digits and '_', not starting with a digit)");
      continue;
    }
    auto rest = trim(line.substr(eq + 1));
    std::string why;
    std::optional<std::string> value;
    if (!rest.empty() && rest.front() == '"')
      value = parse_double_quoted(rest, why);
    else if (!rest.empty() && rest.front() == '\'')
      value = parse_single_quoted(rest, why);
    else
      value = unquoted_value(rest);
    if (!value) {
      fail(why);
      continue;
    }
    result[std::string{key}] = std::move(*value);
  }
  return result;
}

std::string to_string(api_scope x) {
  return x == api_scope::write ? "write" : "read";
}

std::string to_string(log_format x) {
  return x == log_format::json ? "json" : "text";
}

caf::expected<config> parse_config(const env_map& env, config_use use) {
  reader in{env};
  config result;
  read_database(in, result.database);
  if (use == config_use::serve) read_http(in, result.http);
  if (use == config_use::serve || use == config_use::clouds) {
    read_secret_key(in, result.secret_key);
    read_previous_secret_keys(in, result.previous_secret_keys);
  }
  read_log(in, result.log);
  if (use == config_use::serve) {
    read_openstack(in, result.openstack);
    read_ansible(in, result.ansible);
    read_cluster(in, result.cluster);
    read_cluster_timing(in, result.cluster);
    read_deployment(in, result.deployment);
    read_installation_id(in, result.installation_id);
  }
  if (!in.ok()) return make_error(errc::invalid_config, in.joined());
  return result;
}

std::string database_url_password(std::string_view url) {
  auto raw = raw_url_passwords(url);
  return raw.empty() ? std::string{} : percent_decode(raw.front());
}

std::vector<std::string> secrets_of(const config& cfg) {
  std::vector<std::string> result;
  auto add = [&](std::string value) {
    if (!value.empty() && std::find(result.begin(), result.end(), value) == result.end())
      result.push_back(std::move(value));
  };
  for (const auto& key : cfg.http.api_keys) add(key.key);
  add(cfg.secret_key);
  for (const auto& key : cfg.previous_secret_keys) add(key);
  add(cfg.openstack.password);
  for (auto& raw : raw_url_passwords(cfg.database.url)) {
    add(percent_decode(raw));
    add(std::move(raw));
  }
  return result;
}

} // namespace orch
