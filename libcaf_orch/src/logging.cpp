#include "orch/logging.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

namespace orch {

namespace {

constexpr std::string_view mask = "***";

std::string lower(std::string_view text) {
  std::string result{text};
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return result;
}

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t';
}

/// Where a header-like value ends: whitespace, quotes, or a separator.
bool ends_token(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'' || c == ','
         || c == ';' || c == '&';
}

/// Replaces every value that follows `marker` (matched case-insensitively). `skip_scheme`
/// keeps one word such as `Bearer` before the value.
void mask_after(std::string& text, std::string_view marker, bool skip_scheme) {
  size_t from = 0;
  for (;;) {
    auto lowered = lower(text);
    auto hit = lowered.find(marker, from);
    if (hit == std::string::npos) return;
    auto pos = hit + marker.size();
    while (pos < text.size() && is_blank(text[pos])) ++pos;
    if (skip_scheme) {
      auto word_end = pos;
      while (word_end < text.size() && !ends_token(text[word_end])) ++word_end;
      if (word_end < text.size() && is_blank(text[word_end])) {
        pos = word_end;
        while (pos < text.size() && is_blank(text[pos])) ++pos;
      }
    }
    auto end = pos;
    while (end < text.size() && !ends_token(text[end])) ++end;
    if (end > pos && text.compare(pos, end - pos, mask) != 0) {
      text.replace(pos, end - pos, mask);
      end = pos + mask.size();
    }
    from = std::max(end, hit + 1);
  }
}

/// Replaces the string value of every `"password"` JSON member.
void mask_json_password(std::string& text) {
  constexpr std::string_view key = "\"password\"";
  size_t from = 0;
  for (;;) {
    auto lowered = lower(text);
    auto hit = lowered.find(key, from);
    if (hit == std::string::npos) return;
    auto pos = hit + key.size();
    from = pos;
    while (pos < text.size() && is_blank(text[pos])) ++pos;
    if (pos >= text.size() || text[pos] != ':') continue;
    ++pos;
    while (pos < text.size() && is_blank(text[pos])) ++pos;
    if (pos >= text.size() || text[pos] != '"') continue;
    auto start = ++pos;
    while (pos < text.size() && text[pos] != '"') pos += text[pos] == '\\' ? 2 : 1;
    pos = std::min(pos, text.size());
    text.replace(start, pos - start, mask);
    from = start + mask.size();
  }
}

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

std::string format_time(spdlog::log_clock::time_point tp) {
  using namespace std::chrono;
  auto t = time_point_cast<milliseconds>(tp);
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> tod{t - day};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()),
                static_cast<int>(tod.subseconds().count()));
  return buf;
}

std::string_view json_level(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

std::string_view text_level(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "TRACE";
    case spdlog::level::debug: return "DEBUG";
    case spdlog::level::info: return "INFO ";
    case spdlog::level::warn: return "WARN ";
    case spdlog::level::err: return "ERROR";
    case spdlog::level::critical: return "CRIT ";
    default: return "OFF  ";
  }
}

std::string redacted_payload(const spdlog::details::log_msg& msg, const redactor* redact) {
  std::string_view payload{msg.payload.data(), msg.payload.size()};
  if (redact == nullptr) return std::string{payload};
  return redact->redact(payload);
}

/// Takes `[r:<id>]` and `[d:<id>]` off the front of `message`, in either order.
void extract_ids(std::string& message, std::string& request_id, std::string& deployment_id) {
  for (int round = 0; round < 2; ++round) {
    if (message.size() < 4 || message[0] != '[' || message[2] != ':') return;
    auto* target = message[1] == 'r' ? &request_id : message[1] == 'd' ? &deployment_id : nullptr;
    if (target == nullptr || !target->empty()) return;
    auto close = message.find(']');
    if (close == std::string::npos || close == 3) return;
    auto id = std::string_view{message}.substr(3, close - 3);
    if (std::any_of(id.begin(), id.end(), [](char c) { return c == ' ' || c == '['; })) return;
    *target = std::string{id};
    auto rest = close + 1;
    while (rest < message.size() && message[rest] == ' ') ++rest;
    message.erase(0, rest);
  }
}

struct logging_state {
  std::mutex mtx;
  bool configured = false;
  spdlog::sink_ptr sink;
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;
};

logging_state& state() {
  static logging_state instance;
  return instance;
}

} // namespace

redactor::redactor(std::vector<std::string> secrets) {
  for (auto& secret : secrets)
    if (secret.size() >= min_secret_length
        && std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end())
      secrets_.push_back(std::move(secret));
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string redactor::redact(std::string_view text) const {
  std::string result{text};
  for (const auto& secret : secrets_) {
    size_t pos = 0;
    while ((pos = result.find(secret, pos)) != std::string::npos) {
      result.replace(pos, secret.size(), mask);
      pos += mask.size();
    }
  }
  mask_after(result, "authorization:", true);
  mask_after(result, "x-api-key:", false);
  mask_after(result, "x-auth-token:", false);
  mask_after(result, "x-subject-token:", false);
  mask_after(result, "password=", false);
  mask_json_password(result);
  return result;
}

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  constexpr std::string_view replacement = "\xEF\xBF\xBD";
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0x0F];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Multi-byte sequence: accept only well-formed UTF-8 (no overlongs, surrogates or values
    // past U+10FFFF), as RFC 3629 table 3-7 lists.
    size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    }
    bool valid = len > 0 && i + len <= text.size();
    for (size_t k = 1; valid && k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      auto min = k == 1 ? lo : static_cast<unsigned char>(0x80);
      auto max = k == 1 ? hi : static_cast<unsigned char>(0xBF);
      valid = cc >= min && cc <= max;
    }
    if (valid) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += replacement;
      ++i;
    }
  }
}

json_log_formatter::json_log_formatter(std::shared_ptr<const redactor> redact)
  : redactor_(std::move(redact)) {
  // nop
}

void json_log_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  auto message = redacted_payload(msg, redactor_.get());
  std::string request_id;
  std::string deployment_id;
  extract_ids(message, request_id, deployment_id);
  std::string line;
  line.reserve(message.size() + 128);
  line += "{\"time\":\"";
  line += format_time(msg.time);
  line += "\",\"level\":\"";
  line += json_level(msg.level);
  line += "\",\"logger\":\"";
  append_json_escaped(line, std::string_view{msg.logger_name.data(), msg.logger_name.size()});
  line += "\",\"message\":\"";
  append_json_escaped(line, message);
  line += '"';
  if (!request_id.empty()) {
    line += ",\"request_id\":\"";
    append_json_escaped(line, request_id);
    line += '"';
  }
  if (!deployment_id.empty()) {
    line += ",\"deployment_id\":\"";
    append_json_escaped(line, deployment_id);
    line += '"';
  }
  line += "}\n";
  append(dest, line);
}

std::unique_ptr<spdlog::formatter> json_log_formatter::clone() const {
  return std::make_unique<json_log_formatter>(redactor_);
}

text_log_formatter::text_log_formatter(std::shared_ptr<const redactor> redact)
  : redactor_(std::move(redact)) {
  // nop
}

void text_log_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  auto message = redacted_payload(msg, redactor_.get());
  std::string line = format_time(msg.time);
  line += ' ';
  line += text_level(msg.level);
  line += ' ';
  line.append(msg.logger_name.data(), msg.logger_name.size());
  line += ' ';
  // A newline inside a message would let its text pose as another record.
  for (auto c : message) {
    if (c == '\n')
      line += "\\n";
    else if (c == '\r')
      line += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
      line += '?';
    else
      line += c;
  }
  line += '\n';
  append(dest, line);
}

std::unique_ptr<spdlog::formatter> text_log_formatter::clone() const {
  return std::make_unique<text_log_formatter>(redactor_);
}

void configure_logging(const log_config& cfg, std::vector<std::string> secrets,
                       spdlog::sink_ptr sink) {
  auto redact = std::make_shared<const redactor>(std::move(secrets));
  std::unique_ptr<spdlog::formatter> formatter;
  if (cfg.format == log_format::json)
    formatter = std::make_unique<json_log_formatter>(redact);
  else
    formatter = std::make_unique<text_log_formatter>(redact);
  sink->set_formatter(std::move(formatter));
  auto& st = state();
  std::lock_guard<std::mutex> guard{st.mtx};
  st.configured = true;
  st.sink = sink;
  st.level = cfg.level;
  for (auto& [name, lg] : st.loggers) {
    lg->sinks().assign(1, sink);
    lg->set_level(cfg.level);
  }
}

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  auto& st = state();
  std::lock_guard<std::mutex> guard{st.mtx};
  if (auto i = st.loggers.find(name); i != st.loggers.end()) return i->second;
  std::vector<spdlog::sink_ptr> sinks;
  if (st.configured)
    sinks.push_back(st.sink);
  else if (auto fallback = spdlog::default_logger())
    sinks = fallback->sinks();
  auto result = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
  result->set_level(st.level);
  try {
    spdlog::register_logger(result);
  } catch (const spdlog::spdlog_ex&) {
    // Someone else registered the name: ours still works, it is just not found by spdlog::get.
  }
  st.loggers.emplace(name, result);
  return result;
}

} // namespace orch
