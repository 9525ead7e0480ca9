#pragma once

#include <memory>

#include <spdlog/spdlog.h>

#include "orch/logging.hpp"

namespace orch::persistence {

/// The module's logger, `orch.persistence`; `apps/` sets its sink and format.
inline std::shared_ptr<spdlog::logger> log() {
  static auto instance = orch::logger("orch.persistence");
  return instance;
}

} // namespace orch::persistence
