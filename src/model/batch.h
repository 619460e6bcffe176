// One forward pass's input: tokens of many sequences, each at its own position.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "model/kv_storage.h"

namespace corral::model {

struct BatchToken {
  int32_t token = 0;
  int32_t pos = 0;      // position in its sequence; K/V are written there
  int32_t seq = 0;      // index into ForwardBatch::seqs
  bool logits = false;  // produce this position's output row
};

// A sequence's KV block tables, one per KV group (KvStorage::group_of(layer)): blocks[g][i]
// holds positions [i*kKvBlockTokens, (i+1)*kKvBlockTokens) of group g's layers. Each covers
// every position of this sequence that the batch writes; the positions a token attends to (its
// layer's window below its own position) must already be cached (or be written by this
// batch). Blocks outside every window may be absent (-1).
struct BatchSeq {
  std::array<const int32_t*, kMaxKvGroups> blocks{};  // [n_groups][n_blocks]
  int32_t n_blocks = 0;
};

struct ForwardBatch {
  std::vector<BatchToken> tokens;
  std::vector<BatchSeq> seqs;

  int64_t n_outputs() const {
    int64_t n = 0;
    for (const auto& t : tokens) n += t.logits;
    return n;
  }
};

// What a forward pass produces for the tokens that asked for output, in batch order.
struct ForwardOutput {
  float* logits = nullptr;  // [n_outputs][n_vocab], or nullptr to skip the output matmul
  float* hidden = nullptr;  // [n_outputs][n_embd] final-normed hidden states (embeddings), optional
};

}  // namespace corral::model
