#include "base/log.h"

#include <cstdlib>
#include <string>

namespace corral {

void init_logging() {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::info);
  const char* dbg = std::getenv("OLLAMA_DEBUG");
  if (dbg && *dbg && std::string(dbg) != "0" && std::string(dbg) != "false") spdlog::set_level(spdlog::level::debug);
  if (const char* lvl = std::getenv("CORRAL_LOG_LEVEL"); lvl && *lvl) spdlog::set_level(spdlog::level::from_str(lvl));
}

}  // namespace corral
