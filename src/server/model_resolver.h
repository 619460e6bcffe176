// Turns a request's model name into everything needed to serve it: the store entry, the
// scheduler's ModelSpec, the parsed chat template and the model's default options.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "scheduler/scheduler.h"
#include "store/store.h"
#include "templates/go_template.h"

namespace corral::server {

// What the API reports about a model from its GGUF metadata (read once per blob).
struct GgufFacts {
  bool pooling = false;          // <arch>.pooling_type is set: an embedding model (Ollama's rule)
  bool vision = false;           // <arch>.vision.block_count is set
  int64_t context_length = 0;    // <arch>.context_length (0: absent)
  int64_t embedding_length = 0;  // <arch>.embedding_length (0: absent)
};

struct ServedModel {
  store::ResolvedModel resolved;
  scheduler::ModelSpec spec;
  std::string display_name;                 // "llama3.2:latest"
  std::shared_ptr<const GoTemplate> tmpl;   // never null
  std::vector<std::string> template_stops;  // stops of a built-in template chosen for it
  nlohmann::json params;                    // the model's PARAMETERs (default options)
  GgufFacts facts;                          // from the model's GGUF (zeros when it cannot be read)
};

class ModelResolver {
 public:
  explicit ModelResolver(const store::Store& store) : store_(store) {}

  // kInvalidArgument for an invalid name, kNotFound for an unknown model (with Ollama's
  // message), kInternal for anything else (a broken manifest or template).
  Result<ServedModel> resolve(const std::string& name) const;

 private:
  // Parsed templates by source text: each distinct template is parsed once.
  std::shared_ptr<const GoTemplate> parse_cached(const std::string& text, std::string* error) const;
  // The template for a model without a template layer: its GGUF's chat template family, or
  // Ollama's default "{{ .Prompt }}" when the GGUF has none.
  std::shared_ptr<const GoTemplate> fallback_template(const std::string& model_path,
                                                      std::vector<std::string>* stops) const;

  // The GGUF facts of a model blob; blobs are content-addressed, so the path is the key.
  GgufFacts facts_for(const std::string& model_path) const;

  const store::Store& store_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const GoTemplate>> templates_;
  struct Fallback {
    std::shared_ptr<const GoTemplate> tmpl;
    std::vector<std::string> stops;
  };
  mutable std::map<std::string, Fallback> fallbacks_;  // by model path
  mutable std::map<std::string, GgufFacts> facts_;     // by model path
};

}  // namespace corral::server
