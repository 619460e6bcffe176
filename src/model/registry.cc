#include "model/registry.h"

#include "model/model.h"

namespace corral::model {

const std::vector<ArchEntry>& architectures() {
  static const std::vector<ArchEntry> kArchs = {
      {"llama", load_llama},   {"qwen2", load_qwen2},       {"qwen3", load_qwen3},    {"phi3", load_phi3},
      {"gemma3", load_gemma3}, {"qwen3moe", load_qwen3moe}, {"gpt-oss", load_gptoss}, {"nomic-bert", load_nomic_bert},
  };
  return kArchs;
}

Result<std::shared_ptr<Model>> load_model(std::shared_ptr<const gguf::GgufFile> file, WeightPlacement placement) {
  auto arch = file->get_string("general.architecture");
  if (!arch) return arch.status();
  if (!arch->has_value()) return Status::error("missing metadata key general.architecture");
  for (const ArchEntry& e : architectures()) {
    if (**arch != e.name) continue;
    if (placement == WeightPlacement::kResident && !file->is_resident()) {
      auto resident = file->resident_copy();
      if (!resident) return resident.status();
      file = std::move(resident).value();
    }
    // The loader may interleave weights in the resident copy (WeightBinder); then it is sealed.
    auto model = e.load(file);
    if (model && file->is_resident()) CORRAL_RETURN_IF_ERROR(file->seal_resident());
    return model;
  }
  std::string known;
  for (const ArchEntry& e : architectures()) known += (known.empty() ? "" : ", ") + std::string(e.name);
  return Status::errorf("model architecture '{}' is not supported yet (supported: {})", **arch, known);
}

Result<std::shared_ptr<Model>> load_model(const std::string& path, WeightPlacement placement) {
  auto f = gguf::GgufFile::open(path);
  if (!f) return f.status();
  auto m = load_model(std::shared_ptr<const gguf::GgufFile>(std::move(f).value()), placement);
  if (!m) return m.status().with_context(path);
  return m;
}

std::unique_ptr<KvStorage> Model::make_kv_storage(const std::vector<int64_t>& capacity_blocks, DType kv_type) const {
  // An encoder attends within its one pass and caches nothing: no KV heads, zero-byte blocks.
  const int64_t cached_heads = config_.causal ? config_.n_head_kv : 0;
  return std::make_unique<KvStorage>(kv_layout(), cached_heads, config_.head_dim, capacity_blocks, kv_type);
}

}  // namespace corral::model
