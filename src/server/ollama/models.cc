// GET /, /api/version, /api/tags, /api/ps; POST /api/show.
#include <algorithm>

#include "gguf/gguf_file.h"
#include "server/ollama/handlers.h"
#include "server/request_fields.h"
#include "store/gguf_info.h"
#include "store/json_util.h"
#include "store/modelfile.h"

namespace corral::server {
namespace {

ordered_json details_json(const store::ModelDetails& d) {
  return ordered_json{{"parent_model", d.parent_model},
                      {"format", d.format},
                      {"family", d.family},
                      {"families", d.families.empty() ? ordered_json(nullptr) : ordered_json(d.families)},
                      {"parameter_size", d.parameter_size},
                      {"quantization_level", d.quantization_level}};
}

// Ollama's /api/show "parameters": one "name value" line per value, names padded to 30
// columns, values as Go's %#v prints them (strings quoted).
std::string parameters_text(const nlohmann::json& params) {
  std::vector<std::string> lines;
  auto value_text = [](const nlohmann::json& v) -> std::string {
    if (v.is_string()) return json_text(v);
    if (v.is_number_float()) return store::go_format_float(v.get<double>());
    return json_text(v);
  };
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (it->is_array()) {
      for (const auto& x : *it) lines.push_back(fmt::format("{:<30} {}", it.key(), value_text(x)));
    } else {
      lines.push_back(fmt::format("{:<30} {}", it.key(), value_text(*it)));
    }
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
  return out;
}

// GGUF metadata as Ollama's model_info: every key, with the big tokenizer arrays nulled unless
// verbose, plus general.parameter_count.
ordered_json model_info(const std::string& path, bool verbose) {
  ordered_json info = ordered_json::object();
  auto f = gguf::GgufFile::open(path);
  if (!f) return info;
  for (const auto& [key, v] : (*f)->metadata()) {
    const bool big = key == "tokenizer.ggml.tokens" || key == "tokenizer.ggml.scores" ||
                     key == "tokenizer.ggml.token_type" || key == "tokenizer.ggml.merges";
    if (big && !verbose) {
      info[key] = nullptr;
      continue;
    }
    if (key == "tokenizer.chat_template") continue;
    if (auto s = v.as_string()) info[key] = *s;
    else if (v.as_bool()) info[key] = *v.as_bool();
    else if (v.type() == gguf::ValueType::kFloat32 || v.type() == gguf::ValueType::kFloat64) info[key] = *v.as_float();
    else if (auto i = v.as_int()) info[key] = *i;
    else if (auto u = v.as_uint()) info[key] = *u;
    else if (auto* ss = v.strings()) info[key] = *ss;
    else if (auto* is = v.ints()) info[key] = *is;
    else if (auto* us = v.uints()) info[key] = *us;
    else if (auto* fs = v.floats()) info[key] = *fs;
  }
  info["general.parameter_count"] = store::summarize_gguf(**f).parameter_count;
  return info;
}

}  // namespace

void handle_version(ApiContext&, http::Request&&, Writer w) {
  respond_json(w, 200, ordered_json{{"version", CORRAL_VERSION}});
}

void handle_tags(ApiContext& ctx, http::Request&&, Writer w) {
  auto list = ctx.store.list();
  if (!list) return respond_error(w, 500, list.error());
  ordered_json models = ordered_json::array();
  for (const auto& e : list->models) {
    models.push_back(ordered_json{{"name", e.name.display()},
                                  {"model", e.name.display()},
                                  {"modified_at", rfc3339(e.modified_at)},
                                  {"size", e.size},
                                  {"digest", e.digest},
                                  {"details", details_json(e.details)}});
  }
  respond_json(w, 200, ordered_json{{"models", models}});
}

void handle_show(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, 400, body.error());
  std::string name;  // "name": older clients
  if (Status s = read_name(*body, {"model", "name"}, &name); !s) return respond_error(w, 400, s.message());
  if (name.empty()) return respond_error(w, 400, "model is required");
  bool verbose = false;
  if (Status s = read_bool(*body, "verbose", &verbose); !s) return respond_error(w, 400, s.message());
  auto resolved = ctx.resolver.resolve(name);
  if (!resolved) return respond_status(w, resolved.status());
  const ServedModel& m = *resolved;
  const store::ResolvedModel& r = m.resolved;
  ordered_json out;
  std::string license;
  for (size_t i = 0; i < r.licenses.size(); ++i) license += (i ? "\n" : "") + r.licenses[i];
  if (!license.empty()) out["license"] = license;
  out["modelfile"] = store::render_modelfile(r.modelfile_source());
  out["parameters"] = parameters_text(m.params);
  out["template"] = r.template_text.value_or("{{ .Prompt }}");
  if (r.system) out["system"] = *r.system;
  out["details"] = details_json(r.details);
  if (!r.messages.empty()) {
    // The Modelfile's MESSAGE history (Ollama's "messages"): `run` replays it before the chat.
    ordered_json msgs = ordered_json::array();
    for (const auto& m : r.messages) msgs.push_back(ordered_json{{"role", m.role}, {"content", m.content}});
    out["messages"] = msgs;
  }
  out["model_info"] = model_info(r.model_path, verbose);
  ordered_json caps = ordered_json::array({"completion"});
  const std::string& t = r.template_text.value_or("");
  if (t.find(".Tools") != std::string::npos) caps.push_back("tools");
  if (t.find(".Suffix") != std::string::npos) caps.push_back("insert");
  out["capabilities"] = caps;
  out["modified_at"] = rfc3339(r.modified_at);
  respond_json(w, 200, out);
}

void handle_ps(ApiContext& ctx, http::Request&&, Writer w) {
  ordered_json models = ordered_json::array();
  auto status = ctx.scheduler.status();
  std::sort(status.begin(), status.end(), [](const auto& a, const auto& b) { return a.spec.name < b.spec.name; });
  for (const auto& s : status) {
    store::ModelDetails details;
    if (auto r = ctx.store.resolve(s.spec.key)) details = r->details;
    models.push_back(ordered_json{{"name", s.spec.name},
                                  {"model", s.spec.name},
                                  {"size", s.size_bytes},
                                  {"digest", s.spec.digest},
                                  {"details", details_json(details)},
                                  {"expires_at", rfc3339(s.expires_at)},
                                  {"size_vram", 0},
                                  {"context_length", s.num_ctx},
                                  // corral's additions: what the scheduler is doing with the model right now.
                                  {"loading", s.loading},
                                  {"slots_in_use", s.info.slots_busy},
                                  {"slots_total", s.loading ? s.num_parallel : s.info.slots_total},
                                  {"queued", s.info.queued},
                                  {"tokens_per_second", s.info.tokens_per_second},
                                  {"kv_cache_tokens", s.info.kv_used_tokens},
                                  {"kv_cache_capacity_tokens", s.info.kv_capacity_tokens}});
  }
  respond_json(w, 200, ordered_json{{"models", models}});
}

}  // namespace corral::server
