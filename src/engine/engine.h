// One model's compute state: its KV cache and activation buffers, and the batched step that
// feeds tokens of many sequences through the model in one forward pass. Single-threaded (the
// engine thread of a loaded model); the forward pass itself fans out on the shared pool.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/kv_cache.h"
#include "model/forward_scratch.h"
#include "model/model.h"

namespace corral::engine {

struct EngineConfig {
  int64_t kv_capacity_tokens = 4096;  // upper bound of cached positions over all sequences
  DType kv_type = DType::kF32;        // F32, F16, Q8_0 or Q4_0 (model::kv_type_supported)
  // Sliding-window layers' pools (KvSizing): sequences holding KV at once and the most tokens
  // one step appends; 0 sizes them like the full-attention pool.
  int64_t kv_sequences = 0;
  int64_t kv_step_tokens = 0;
  bool kv_swa_full = false;  // sliding-window layers keep every position (a full cache)
};

// The KV pools' sizes for `config`.
inline KvSizing kv_sizing(const EngineConfig& c) {
  return KvSizing{c.kv_capacity_tokens, c.kv_sequences, c.kv_step_tokens, c.kv_swa_full};
}

enum class Outputs { kNone, kLast, kAll };

// Tokens to append to one sequence in a step.
struct SeqFeed {
  SeqId seq = 0;
  std::vector<int32_t> tokens;
  Outputs outputs = Outputs::kLast;
};

class Engine {
 public:
  Engine(std::shared_ptr<const model::Model> model, EngineConfig config, ThreadPool& pool);

  const model::Model& model() const { return *model_; }
  KvCache& kv() { return kv_; }
  const KvCache& kv() const { return kv_; }
  int64_t n_vocab() const { return model_->config().n_vocab; }

  // Runs one forward pass over every feed (each sequence at most once, token ids within the
  // vocabulary, room in the KV pool: the caller's step plan sees to it). Each sequence has its
  // tokens appended to its cache; `logits` (and `hidden`) hold one [n_vocab] ([n_embd]) row
  // per requested output, in feed order then token order.
  void eval(const std::vector<SeqFeed>& feeds, std::vector<float>* logits, std::vector<float>* hidden = nullptr);

 private:
  std::shared_ptr<const model::Model> model_;
  ThreadPool& pool_;
  KvCache kv_;
  std::unique_ptr<model::ForwardScratch> scratch_;
  model::ForwardBatch batch_;  // reused between steps
};

}  // namespace corral::engine
