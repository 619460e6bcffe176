// A loaded model: read-only weights (a resident copy or the GGUF mapping) plus a batched forward pass. Per-sequence
// state (KV cache, activations) lives outside, so one Model serves any number of sequences.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "gguf/gguf_file.h"
#include "model/batch.h"
#include "model/config.h"
#include "model/kv_storage.h"

namespace corral::model {

class ForwardScratch;

class Model {
 public:
  virtual ~Model() = default;

  const ModelConfig& config() const { return config_; }
  const gguf::GgufFile& file() const { return *file_; }

  // Bytes of tensor data the forward pass reads (the file minus metadata).
  size_t weight_bytes() const { return weight_bytes_; }
  // KV bytes one cached position costs (all layers, K and V, elements of kv_type).
  size_t kv_bytes_per_token(DType kv_type = DType::kF32) const {
    if (!config_.causal) return 0;  // an encoder attends within its one pass: nothing is cached
    const size_t row = kv_row_bytes(kv_storage_type(kv_type, config_.head_dim), config_.head_dim);
    return static_cast<size_t>(config_.n_layer * 2 * config_.n_head_kv) * row;
  }

  // How the layers share KV block tables (by attention window).
  KvLayout kv_layout() const { return model::kv_layout(config_); }
  // KV pools for this model's shape; capacity_blocks: [kv_layout().n_groups()] blocks of
  // kKvBlockTokens positions per group. An encoder's blocks hold no bytes (positions are still
  // counted).
  std::unique_ptr<KvStorage> make_kv_storage(const std::vector<int64_t>& capacity_blocks,
                                             DType kv_type = DType::kF32) const;
  // Reusable activation buffers for forward(); one per thread that calls forward().
  virtual std::unique_ptr<ForwardScratch> make_scratch() const = 0;

  // Runs every token of the batch through the network: writes each token's K/V into its
  // sequence's blocks, attends over positions [0, pos] of its own sequence, and fills `out`
  // for tokens with logits=true. An encoder (!config().causal) instead attends over all of
  // its sequence's tokens, which must all be in this batch, and has only `out.hidden`. Thread-safe for distinct (kv, scratch) pairs; uses `pool`.
  virtual void forward(const ForwardBatch& batch, const KvStorage& kv, const ForwardOutput& out,
                       ForwardScratch& scratch, ThreadPool& pool) const = 0;

 protected:
  ModelConfig config_;
  std::shared_ptr<const gguf::GgufFile> file_;
  size_t weight_bytes_ = 0;
};

// Where a loaded model's weights are read from.
enum class WeightPlacement {
  kResident,  // a private copy on huge pages (GgufFile::resident_copy): decode runs faster
  kMapped,    // the file mapping itself: no copy, pages shared with the page cache
};

// Opens a GGUF file and builds the model its general.architecture names.
Result<std::shared_ptr<Model>> load_model(const std::string& path,
                                          WeightPlacement placement = WeightPlacement::kResident);
Result<std::shared_ptr<Model>> load_model(std::shared_ptr<const gguf::GgufFile> file,
                                          WeightPlacement placement = WeightPlacement::kResident);

}  // namespace corral::model
