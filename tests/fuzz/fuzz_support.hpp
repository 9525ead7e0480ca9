#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string_view>

#include <spdlog/sinks/base_sink.h>

#include "orch/config.hpp"
#include "orch/logging.hpp"

/// A property the harness checks; unlike `assert` it holds in every build type, and the abort
/// makes libFuzzer keep the input as a crash.
#define ORCH_FUZZ_ASSERT(cond)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: fuzz property violated: %s\n", __FILE__, __LINE__, #cond);      \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace orch::fuzz {

/// Formats every record (the redactor and the formatter see fuzzed text too) and drops it.
class discarding_sink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
  }

  void flush_() override {
    // nop
  }
};

/// Routes our loggers to a `discarding_sink`, JSON-formatted at `info` as in production, so
/// that a run's output holds only libFuzzer's and the sanitizers' lines.
inline void silence_logs() {
  log_config cfg;
  cfg.level = spdlog::level::info;
  cfg.format = log_format::json;
  configure_logging(cfg, {"fuzz-write-key-0123456789", "fuzz-read-key-0123456789"},
                    std::make_shared<discarding_sink>());
}

/// The fuzzer's input as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

} // namespace orch::fuzz
