#include "server/ollama/request.h"

#include "server/api_common.h"
#include "server/completion_jobs.h"
#include "server/request_fields.h"

namespace corral::server {
namespace {

// A think field: a boolean, or a level ("high", "medium", "low").
Status read_think(const ordered_json& b, ThinkOption* out) {
  const ordered_json* v = find_field(b, "think");
  if (!v) return Status::ok();
  if (v->is_boolean()) out->enabled = v->get<bool>();
  else if (v->is_string()) out->level = v->get_ref<const std::string&>();
  else return field_type_error("think", "a boolean or a string");
  // Ollama's ThinkValue accepts these three levels and nothing else.
  if (v->is_string() && out->level != "high" && out->level != "medium" && out->level != "low")
    return Status::errorf("invalid think value: \"{}\" (must be \"high\", \"medium\", \"low\", true, or false)",
                          clip_for_error(out->level));
  return Status::ok();
}

}  // namespace

Result<OllamaRequest> parse_ollama_request(const ordered_json& b, OllamaEndpoint endpoint) {
  OllamaRequest r;
  CORRAL_RETURN_IF_ERROR(read_string(b, "model", &r.model));
  CORRAL_ASSIGN_OR_RETURN(r.keep_alive, parse_keep_alive_field(b));
  CORRAL_ASSIGN_OR_RETURN(const ordered_json* options, read_object(b, "options"));
  if (options) r.options = *options;
  if (endpoint == OllamaEndpoint::kGenerate || endpoint == OllamaEndpoint::kChat) {
    CORRAL_RETURN_IF_ERROR(read_bool(b, "stream", &r.stream));
    if (const ordered_json* f = find_field(b, "format")) {
      if (!f->is_string() && !f->is_object()) return field_type_error("format", "\"json\" or a JSON schema object");
      r.format = *f;
    }
    CORRAL_RETURN_IF_ERROR(read_think(b, &r.think));
    bool logprobs = false;
    int64_t top = 0;
    CORRAL_RETURN_IF_ERROR(read_bool(b, "logprobs", &logprobs));
    CORRAL_RETURN_IF_ERROR(read_int(b, "top_logprobs", &top));
    if (top < 0 || top > engine::kMaxTopLogprobs) return Status::error("top_logprobs must be between 0 and 20");
    // top_logprobs alone asks for them too (a client that sets it wants to see them).
    if (logprobs || top > 0) r.top_logprobs = static_cast<int>(top);
  }
  return r;
}

std::optional<RequestOptions> options_or_respond(const ServedModel& m, const OllamaRequest& r, const Writer& w) {
  auto opts = options_for(m, r.options);
  if (!opts) {
    respond_status(w, opts.status());
    return std::nullopt;
  }
  return std::move(opts).value();
}

}  // namespace corral::server
