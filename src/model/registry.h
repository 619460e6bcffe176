// Architectures corral can run. Adding one = a new arch_<name>.cc with its loader plus one
// line in registry.cc.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/model.h"

namespace corral::model {

using ArchLoader = Result<std::shared_ptr<Model>> (*)(std::shared_ptr<const gguf::GgufFile>);

struct ArchEntry {
  const char* name;  // general.architecture value
  ArchLoader load;
};

const std::vector<ArchEntry>& architectures();

Result<std::shared_ptr<Model>> load_llama(std::shared_ptr<const gguf::GgufFile> file);
Result<std::shared_ptr<Model>> load_qwen2(std::shared_ptr<const gguf::GgufFile> file);
Result<std::shared_ptr<Model>> load_qwen3(std::shared_ptr<const gguf::GgufFile> file);
Result<std::shared_ptr<Model>> load_phi3(std::shared_ptr<const gguf::GgufFile> file);
Result<std::shared_ptr<Model>> load_gemma3(std::shared_ptr<const gguf::GgufFile> file);
Result<std::shared_ptr<Model>> load_qwen3moe(std::shared_ptr<const gguf::GgufFile> file);
Result<std::shared_ptr<Model>> load_gptoss(std::shared_ptr<const gguf::GgufFile> file);
Result<std::shared_ptr<Model>> load_nomic_bert(std::shared_ptr<const gguf::GgufFile> file);

}  // namespace corral::model
