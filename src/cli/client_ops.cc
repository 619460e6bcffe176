#include "cli/client_ops.h"

#include "cli/progress.h"

namespace corral::cli {

ordered_json keep_alive_value(const std::string& text) {
  // A bare number is seconds for the server, as for Ollama's API; anything else goes as the
  // duration string it is.
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (!text.empty() && end && *end == '\0') return v;
  return text;
}

Status load_or_unload(Client& c, const std::string& model, const std::optional<std::string>& keep_alive) {
  ordered_json req{{"model", model}};
  if (keep_alive) req["keep_alive"] = keep_alive_value(*keep_alive);
  return c.stream("/api/generate", req, [](const json&) { return true; });
}

Status pull_with_progress(Client& c, const std::string& model, bool insecure) {
  Progress p;
  ordered_json req{{"model", model}};
  if (insecure) req["insecure"] = true;
  Status s = c.stream("/api/pull", req, [&p](const json& r) {
    p.record(r, "pulling");
    return true;
  });
  p.stop();
  return s;
}

}  // namespace corral::cli
