// One forward pass's input: tokens of many sequences, each at its own position.
#pragma once

#include <cstdint>
#include <vector>

namespace corral::model {

struct BatchToken {
  int32_t token = 0;
  int32_t pos = 0;      // position in its sequence; K/V are written there
  int32_t seq = 0;      // index into ForwardBatch::seqs
  bool logits = false;  // produce this position's output row
};

// A sequence's KV block table: blocks[i] holds positions [i*kKvBlockTokens, (i+1)*kKvBlockTokens).
// It must cover every position of this sequence that the batch writes; positions below a
// token's own position must already be cached (or be written by this batch).
struct BatchSeq {
  const int32_t* blocks = nullptr;
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
