// Logging goes through spdlog; this sets the level from OLLAMA_DEBUG / CORRAL_LOG_LEVEL.
#pragma once

#include <spdlog/spdlog.h>

namespace corral {
// OLLAMA_DEBUG=1 -> debug; CORRAL_LOG_LEVEL=trace|debug|info|warn|error|off overrides.
void init_logging();
}  // namespace corral
