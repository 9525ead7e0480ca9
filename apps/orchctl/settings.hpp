#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace orch::ctl {

/// Where `orchctl` sends its requests and with which key.
struct settings {
  /// Base URL without a trailing slash (`http://127.0.0.1:8080`).
  std::string url;
  /// The API key; never printed.
  std::string api_key;
};

/// The values a config file sets (`url = ...`, `api_key = ...`, `#` comments).
struct config_file {
  std::optional<std::string> url;
  std::optional<std::string> api_key;
};

/// Parses the text of a config file. Unknown keys and lines without `=` are errors naming
/// the line, so a typo does not silently fall back to a default. Pure.
std::variant<config_file, std::string> parse_config_file(const std::string& text);

/// The config file to read: `ORCH_CONFIG`, else `$XDG_CONFIG_HOME/orch/config`, else
/// `$HOME/.config/orch/config`. Pure.
std::string config_path(const std::map<std::string, std::string>& env);

/// Combines flags over `ORCH_URL`/`ORCH_API_KEY` over the file, and checks the URL. Returns the
/// settings or the problems, all at once. Pure.
std::variant<settings, std::vector<std::string>>
resolve_settings(const std::optional<std::string>& url_flag,
                 const std::optional<std::string>& key_flag,
                 const std::map<std::string, std::string>& env, const config_file& file);

} // namespace orch::ctl
