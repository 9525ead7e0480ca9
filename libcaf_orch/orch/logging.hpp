#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include "orch/config.hpp"

namespace orch {

/// Removes secrets from log text: every occurrence of a configured secret, and the values of
/// `Authorization: <scheme> <token>`, `X-API-Key:`, `X-Auth-Token:`, `X-Subject-Token:`,
/// `password=` and `"password":"..."` (header names and keys matched case-insensitively).
/// Each removed value becomes `***`.
class redactor {
public:
  /// Secrets shorter than this are ignored: masking every "ab" would ruin the logs.
  static constexpr std::size_t min_secret_length = 4;

  redactor() = default;

  /// Keeps the secrets of at least `min_secret_length` characters.
  explicit redactor(std::vector<std::string> secrets);

  /// `text` with every secret and credential-looking value replaced by `***`.
  std::string redact(std::string_view text) const;

  /// Number of secrets kept.
  std::size_t secret_count() const noexcept { return secrets_.size(); }

private:
  /// Longest first, so a secret containing another is masked whole.
  std::vector<std::string> secrets_;
};

/// Writes `text` as the body of a JSON string (no surrounding quotes): quotes, backslashes and
/// control characters escaped, invalid UTF-8 replaced by U+FFFD.
void append_json_escaped(std::string& out, std::string_view text);

/// Formats each record as one JSON object per line: `time` (RFC 3339, milliseconds, `Z`),
/// `level`, `logger`, `message`, and `request_id` / `deployment_id` taken from a leading
/// `[r:<id>]` / `[d:<id>]` prefix of the message (the prefix is removed from `message`).
/// The message is redacted first.
class json_log_formatter final : public spdlog::formatter {
public:
  explicit json_log_formatter(std::shared_ptr<const redactor> redact = nullptr);

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;

  std::unique_ptr<spdlog::formatter> clone() const override;

private:
  std::shared_ptr<const redactor> redactor_;
};

/// Formats each record for humans: `2026-01-15T10:30:00.123Z INFO  orch.http [r:..] message`,
/// redacted, with control characters escaped so one record stays one line.
class text_log_formatter final : public spdlog::formatter {
public:
  explicit text_log_formatter(std::shared_ptr<const redactor> redact = nullptr);

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;

  std::unique_ptr<spdlog::formatter> clone() const override;

private:
  std::shared_ptr<const redactor> redactor_;
};

/// Routes every logger made by `logger()`, existing and future, to `sink`, formatted as
/// `cfg.format` asks with `secrets` redacted, at `cfg.level`. Call before spawning actors:
/// swapping the sink of a logger in use by other threads is not synchronized.
void configure_logging(const log_config& cfg, std::vector<std::string> secrets,
                       spdlog::sink_ptr sink);

/// The shared logger `name` (e.g. `orch.http`), created on first use and registered with
/// spdlog. Before `configure_logging`, it writes to spdlog's default sinks at info level.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

} // namespace orch
