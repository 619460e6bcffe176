#include "server/model_resolver.h"

#include <spdlog/spdlog.h>

#include "gguf/gguf_file.h"
#include "server/api_common.h"
#include "templates/builtin_templates.h"

namespace corral::server {
namespace {
constexpr const char* kDefaultTemplate = "{{ .Prompt }}";  // Ollama's template.DefaultTemplate
}

std::shared_ptr<const GoTemplate> ModelResolver::parse_cached(const std::string& text, std::string* error) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = templates_.find(text);
  if (it != templates_.end()) return it->second;
  auto t = GoTemplate::parse(text);
  if (!t) {
    *error = t.error();
    return nullptr;
  }
  auto p = std::make_shared<const GoTemplate>(std::move(t).value());
  // Bounded: a server sees a handful of distinct templates; drop everything if that grows.
  if (templates_.size() > 256) templates_.clear();
  templates_.emplace(text, p);
  return p;
}

std::shared_ptr<const GoTemplate> ModelResolver::fallback_template(const std::string& model_path,
                                                                   std::vector<std::string>* stops) const {
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = fallbacks_.find(model_path);
    if (it != fallbacks_.end()) {
      *stops = it->second.stops;
      return it->second.tmpl;
    }
  }
  Fallback fb;
  std::string jinja;
  if (auto f = gguf::GgufFile::open(model_path)) jinja = (*f)->string_or("tokenizer.chat_template", "");
  std::string text = kDefaultTemplate;
  if (!jinja.empty()) {
    BuiltinTemplate b = builtin_template_for(jinja);
    text = std::string(b.go_template);
    fb.stops = b.stops;
  }
  std::string err;
  fb.tmpl = parse_cached(text, &err);
  if (!fb.tmpl) {
    spdlog::error("built-in template failed to parse: {}", err);
    fb.tmpl = parse_cached(kDefaultTemplate, &err);
  }
  std::lock_guard<std::mutex> lk(mu_);
  fallbacks_[model_path] = fb;
  *stops = fb.stops;
  return fb.tmpl;
}

GgufFacts ModelResolver::facts_for(const std::string& model_path) const {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (auto it = facts_.find(model_path); it != facts_.end()) return it->second;
  }
  GgufFacts facts;
  if (auto f = gguf::GgufFile::open(model_path)) {
    // Ollama's gguf KeyValue prefixes every key outside general.* and tokenizer.* with the
    // architecture: "pooling_type" is "<arch>.pooling_type".
    const std::string arch = (*f)->string_or("general.architecture", "") + ".";
    auto int_value = [&](const std::string& key) -> int64_t {
      const gguf::Value* v = (*f)->find(arch + key);
      if (!v) return 0;
      if (auto u = v->as_uint()) return static_cast<int64_t>(std::min<uint64_t>(*u, INT64_MAX));
      if (auto i = v->as_int()) return std::max<int64_t>(*i, 0);
      return 0;
    };
    facts.pooling = (*f)->find(arch + "pooling_type") != nullptr;
    facts.vision = (*f)->find(arch + "vision.block_count") != nullptr;
    facts.context_length = int_value("context_length");
    facts.embedding_length = int_value("embedding_length");
  }
  std::lock_guard<std::mutex> lk(mu_);
  // Bounded like templates_: a server sees a handful of model blobs.
  if (facts_.size() > 256) facts_.clear();
  facts_[model_path] = facts;
  return facts;
}

Result<ServedModel> ModelResolver::resolve(const std::string& name) const {
  if (name.empty()) return Status::error(StatusCode::kInvalidArgument, "model is required");
  auto parsed = store::ModelName::parse(name);
  if (!parsed) return Status::error(StatusCode::kInvalidArgument, "invalid model name: " + parsed.error());
  auto r = store_.resolve(*parsed);
  if (!r) {
    if (r.code() == StatusCode::kNotFound) return Status::not_found(model_not_found(name));
    return r.status().with_code(StatusCode::kInternal);
  }
  ServedModel m;
  m.resolved = std::move(r).value();
  m.display_name = m.resolved.name.display();
  m.params = m.resolved.params.is_object() ? m.resolved.params : nlohmann::json::object();
  m.spec.key = m.resolved.name.full();
  m.spec.name = m.display_name;
  m.spec.model_path = m.resolved.model_path;
  m.spec.digest = m.resolved.manifest_digest;
  m.facts = facts_for(m.spec.model_path);
  if (auto it = m.params.find("num_parallel"); it != m.params.end() && it->is_number_integer())
    m.spec.num_parallel = static_cast<int>(std::clamp<int64_t>(it->get<int64_t>(), 0, 256));
  if (auto it = m.params.find("num_ctx"); it != m.params.end() && it->is_number_integer())
    m.spec.num_ctx = std::clamp<int64_t>(it->get<int64_t>(), 0, 1 << 24);
  if (m.resolved.template_text) {
    std::string err;
    m.tmpl = parse_cached(*m.resolved.template_text, &err);
    if (!m.tmpl) return Status::internal("template error: " + err);
  } else {
    m.tmpl = fallback_template(m.spec.model_path, &m.template_stops);
  }
  return m;
}

}  // namespace corral::server
