#include "settings.hpp"

namespace orch::ctl {

namespace {

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::string unquote(const std::string& text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'')
      && text.back() == text.front())
    return text.substr(1, text.size() - 2);
  return text;
}

std::optional<std::string> lookup(const std::map<std::string, std::string>& env,
                                  const std::string& name) {
  auto i = env.find(name);
  if (i == env.end() || i->second.empty()) return std::nullopt;
  return i->second;
}

} // namespace

std::variant<config_file, std::string> parse_config_file(const std::string& text) {
  config_file out;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    auto line = trim(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    pos = end == std::string::npos ? text.size() + 1 : end + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      return "line " + std::to_string(line_no) + ": expected KEY = VALUE";
    auto key = trim(line.substr(0, eq));
    auto value = unquote(trim(line.substr(eq + 1)));
    if (key == "url")
      out.url = value;
    else if (key == "api_key")
      out.api_key = value;
    else
      return "line " + std::to_string(line_no) + ": unknown key '" + key
             + "' (known: url, api_key)";
  }
  return out;
}

std::string config_path(const std::map<std::string, std::string>& env) {
  if (auto x = lookup(env, "ORCH_CONFIG")) return *x;
  if (auto x = lookup(env, "XDG_CONFIG_HOME")) return *x + "/orch/config";
  if (auto x = lookup(env, "HOME")) return *x + "/.config/orch/config";
  return {};
}

std::variant<settings, std::vector<std::string>>
resolve_settings(const std::optional<std::string>& url_flag,
                 const std::optional<std::string>& key_flag,
                 const std::map<std::string, std::string>& env, const config_file& file) {
  settings out;
  std::vector<std::string> problems;
  if (url_flag)
    out.url = *url_flag;
  else if (auto x = lookup(env, "ORCH_URL"))
    out.url = *x;
  else if (file.url)
    out.url = *file.url;
  else
    out.url = "http://127.0.0.1:8080";
  while (!out.url.empty() && out.url.back() == '/') out.url.pop_back();
  if (out.url.rfind("http://", 0) != 0 && out.url.rfind("https://", 0) != 0)
    problems.push_back("the URL must start with http:// or https://, not '" + out.url + "'");
  else if (out.url.find_first_of("?# ") != std::string::npos)
    problems.push_back("the URL must be a base URL without query, fragment or spaces");
  if (key_flag)
    out.api_key = *key_flag;
  else if (auto x = lookup(env, "ORCH_API_KEY"))
    out.api_key = *x;
  else if (file.api_key)
    out.api_key = *file.api_key;
  // The key goes into a header: a line break in it would smuggle another header.
  if (out.api_key.find_first_of("\r\n") != std::string::npos)
    problems.push_back("the API key must not contain a line break");
  if (!problems.empty()) return problems;
  return out;
}

} // namespace orch::ctl
