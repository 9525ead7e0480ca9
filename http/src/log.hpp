#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace orch::http {

/// The module's logger, `orch.http`; `apps/` sets its sink and format.
std::shared_ptr<spdlog::logger> log();

} // namespace orch::http
