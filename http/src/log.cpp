#include "log.hpp"

#include "orch/logging.hpp"

namespace orch::http {

std::shared_ptr<spdlog::logger> log() {
  static auto instance = orch::logger("orch.http");
  return instance;
}

} // namespace orch::http
