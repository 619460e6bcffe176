// GET /, /api/version, /api/tags, /api/ps; POST /api/show.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <limits>

#include "gguf/gguf_file.h"
#include "server/model_capabilities.h"
#include "server/ollama/handlers.h"
#include "server/request_fields.h"
#include "store/gguf_info.h"
#include "store/json_util.h"
#include "store/modelfile.h"

namespace corral::server {
namespace {

// Ollama's ModelDetails. `families` is [] rather than null when empty: clients index it.
ordered_json details_json(const store::ModelDetails& d) {
  return ordered_json{{"parent_model", d.parent_model},
                      {"format", d.format},
                      {"family", d.family},
                      {"families", d.families.empty() ? ordered_json::array() : ordered_json(d.families)},
                      {"parameter_size", d.parameter_size},
                      {"quantization_level", d.quantization_level}};
}

// The details /api/tags and /api/ps give (current Ollama, 2026): the model's trained context
// and embedding lengths from its GGUF, left out when the GGUF has none (Go's omitempty).
ordered_json listed_details_json(const store::ModelDetails& d, const GgufFacts& facts) {
  ordered_json out = details_json(d);
  if (facts.context_length > 0) out["context_length"] = facts.context_length;
  if (facts.embedding_length > 0) out["embedding_length"] = facts.embedding_length;
  return out;
}

ordered_json capabilities_json(const ServedModel& m) { return ordered_json(model_capabilities(m)); }

// Ollama's expiry for a keep-alive that never ends: time.Now().Add(math.MaxInt64), about 292
// years ahead. That is past what a nanosecond system_clock holds, so it is built from seconds.
std::string forever_rfc3339() {
  constexpr int64_t kNanos = 1'000'000'000;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t secs = now / kNanos + kMax / kNanos;
  int64_t nanos = now % kNanos + kMax % kNanos;
  if (nanos >= kNanos) ++secs, nanos -= kNanos;
  return rfc3339(secs, nanos);
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

// Ollama reads GGUF arrays of more than this many elements only when verbose (fs/ggml
// Decode's default maxArraySize); shorter ones it always shows in full.
constexpr size_t kMaxArrayWithoutVerbose = 1024;

// GGUF metadata as Ollama's model_info: every key but general.name and the chat template (its
// GetModelInfo drops both), long arrays as [] unless verbose (Ollama's documented form: the
// tokenizer's vocabulary, merges and scores), plus general.parameter_count.
ordered_json model_info(const gguf::GgufFile& f, bool verbose) {
  ordered_json info = ordered_json::object();
  for (const auto& [key, v] : f.metadata()) {
    if (key == "general.name" || key == "tokenizer.chat_template") continue;
    if (v.is_array() && !verbose && v.size() > kMaxArrayWithoutVerbose) {
      info[key] = ordered_json::array();
      continue;
    }
    if (auto s = v.as_string()) info[key] = *s;
    else if (v.as_bool()) info[key] = *v.as_bool();
    else if (v.type() == gguf::ValueType::kFloat32 || v.type() == gguf::ValueType::kFloat64) info[key] = *v.as_float();
    else if (auto i = v.as_int()) info[key] = *i;
    else if (auto u = v.as_uint()) info[key] = *u;
    else if (auto* ss = v.strings()) info[key] = *ss;
    else if (auto* is = v.ints()) info[key] = *is;
    else if (auto* us = v.uints()) info[key] = *us;
    else if (auto* fs = v.floats()) info[key] = *fs;
    else info[key] = ordered_json::array();  // nested arrays: not shown, but never null
  }
  info["general.parameter_count"] = store::summarize_gguf(f).parameter_count;
  return info;
}

// Ollama's verbose "tensors": name, type as ggml names it in capitals ("Q4_K", "F32") and the
// GGUF dimensions, innermost first.
ordered_json tensors_json(const gguf::GgufFile& f) {
  ordered_json out = ordered_json::array();
  for (const gguf::TensorInfo& t : f.tensors()) {
    std::string type = dtype_name(t.type);
    for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ordered_json shape = ordered_json::array();
    for (int d = 0; d < t.n_dims; ++d) shape.push_back(static_cast<uint64_t>(t.ne[d]));
    out.push_back(ordered_json{{"name", t.name}, {"type", type}, {"shape", shape}});
  }
  return out;
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
    // A model that lists but does not resolve (a broken template) still lists, as in Ollama.
    auto m = ctx.resolver.resolve(e.name.display());
    models.push_back(ordered_json{{"name", e.name.display()},
                                  {"model", e.name.display()},
                                  {"modified_at", rfc3339(e.modified_at)},
                                  {"size", e.size},
                                  {"digest", e.digest},
                                  {"details", listed_details_json(e.details, m ? m->facts : GgufFacts{})},
                                  {"capabilities", m ? capabilities_json(*m) : ordered_json::array()}});
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
  auto gguf_file = gguf::GgufFile::open(r.model_path);
  out["model_info"] = gguf_file ? model_info(**gguf_file, verbose) : ordered_json::object();
  if (verbose && gguf_file) out["tensors"] = tensors_json(**gguf_file);
  out["capabilities"] = capabilities_json(m);
  out["modified_at"] = rfc3339(r.modified_at);
  respond_json(w, 200, out);
}

void handle_ps(ApiContext& ctx, http::Request&&, Writer w) {
  ordered_json models = ordered_json::array();
  auto status = ctx.scheduler.status();
  std::sort(status.begin(), status.end(), [](const auto& a, const auto& b) { return a.spec.name < b.spec.name; });
  for (const auto& s : status) {
    // A loaded model whose manifest was deleted since still shows, with empty details.
    auto m = ctx.resolver.resolve(s.spec.name);
    models.push_back(ordered_json{
        {"name", s.spec.name},
        {"model", s.spec.name},
        {"size", s.size_bytes},
        {"digest", s.spec.digest},
        {"details", m ? listed_details_json(m->resolved.details, m->facts) : details_json(store::ModelDetails{})},
        {"capabilities", m ? capabilities_json(*m) : ordered_json::array()},
        {"expires_at", s.forever ? forever_rfc3339() : rfc3339(s.expires_at)},
        {"size_vram", 0},
        {"context_length", s.num_ctx},
        // corral's additions: what the scheduler is doing with the model right now.
        {"loading", s.loading},
        {"slots_in_use", s.info.slots_busy},
        {"slots_total", s.loading ? s.num_parallel : s.info.slots_total},
        {"queued", s.info.queued},
        // Predicted wait for a slot of a request arriving now, and how fast slots free up, from
        // measured rates (0 until a request has finished; docs/fairness.md).
        {"queue_eta_ms", s.info.queue_eta_ms},
        {"drain_per_second", s.info.drain_per_second},
        {"preemptions", s.info.preemptions},
        {"tokens_per_second", s.info.tokens_per_second},
        {"kv_cache_tokens", s.info.kv_used_tokens},
        {"kv_cache_capacity_tokens", s.info.kv_capacity_tokens}});
  }
  respond_json(w, 200, ordered_json{{"models", models}});
}

}  // namespace corral::server
