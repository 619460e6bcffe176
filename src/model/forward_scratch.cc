#include "model/forward_scratch.h"

#include "kernels/api.h"
#include "model/kv_storage.h"

namespace corral::model {
namespace {
template <typename T>
void grow(std::vector<T>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}
}  // namespace

void ForwardScratch::reserve(const ModelConfig& c, int64_t n, int64_t n_out, int64_t max_ctx, int n_threads) {
  grow(x, n * c.n_embd);
  grow(xn, n * c.n_embd);
  grow(q, n * c.q_dim());
  grow(k, n * c.kv_dim());
  grow(v, n * c.kv_dim());
  grow(attn, n * c.q_dim());
  grow(gate, n * c.ffn_width());
  grow(up, n * c.ffn_width());
  grow(rope, c.n_rope_variants() * n * c.n_rot);
  if (c.n_expert > 0) {
    grow(moe_logits, n * c.n_expert);
    grow(moe_ids, n * c.n_expert_used);
    grow(moe_w, n * c.n_expert_used);
    grow(moe_rows, n * c.n_expert_used);
    grow(moe_x, n * c.n_expert_used * c.n_embd);
    grow(moe_y, n * c.n_expert_used * c.n_embd);
  }
  grow(out_x, n_out * c.n_embd);
  if (static_cast<int>(scores.size()) < n_threads) scores.resize(static_cast<size_t>(n_threads));
  // One more entry per head for an attention sink.
  for (auto& s : scores) grow(s, (max_ctx + 1) * (c.n_head / c.n_head_kv));
  if (static_cast<int>(kv_block.size()) < n_threads) kv_block.resize(static_cast<size_t>(n_threads));
  for (auto& b : kv_block) grow(b, kernels::attention_scratch_floats(c.n_head / c.n_head_kv, c.head_dim));
  // A span of max_ctx positions touches at most max_ctx / kKvBlockTokens + 2 blocks (a
  // partial block at either end).
  if (static_cast<int>(attn_blocks.size()) < n_threads) attn_blocks.resize(static_cast<size_t>(n_threads));
  for (auto& b : attn_blocks) {
    const size_t want = 2 * static_cast<size_t>(max_ctx / kKvBlockTokens + 2);
    if (b.size() < want) b.assign(want, nullptr);
  }
}

}  // namespace corral::model
