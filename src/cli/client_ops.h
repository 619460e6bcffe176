// Requests several commands share: loading/unloading a model through /api/generate, and a
// pull with its progress display (`pull`, and `run` of a model that is not here yet).
#pragma once

#include <optional>
#include <string>

#include "cli/client.h"

namespace corral::cli {

// POST /api/generate without a prompt: loads the model (keep_alive as given) or, with
// keep_alive "0", unloads it. Ollama's loadOrUnloadModel.
Status load_or_unload(Client& c, const std::string& model, const std::optional<std::string>& keep_alive);

// POST /api/pull, drawing its progress records ("pulling <digest>..." bars).
Status pull_with_progress(Client& c, const std::string& model, bool insecure);

// A request's "keep_alive": a Go duration string ("5m", "1h30m", "-1") or seconds.
ordered_json keep_alive_value(const std::string& text);

}  // namespace corral::cli
