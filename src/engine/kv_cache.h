// Block allocation for the paged KV cache of one model: which blocks each sequence owns, shared
// prefixes (fork) with copy-on-write, truncation and freeing. Blocks come from one pool per KV
// group (model::KvLayout: full-attention layers, sliding-window layers); a pool's capacity is an
// upper bound, memory is only used by blocks holding tokens.
//
// Sliding-window groups keep only what a sequence can still attend to: once a sequence is
// `length` positions long, its next token sees positions >= length - window + 1, so blocks
// wholly below that go back to the pool (a long conversation holds about window + one block of
// positions in those layers). A sequence can therefore only be resumed, forked or truncated at
// a length whose window is still held (resumable()); the prefix cache asks before it reuses.
// Not thread-safe: one engine thread owns it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "model/kv_storage.h"
#include "model/model.h"

namespace corral::engine {

using SeqId = int64_t;

// Blocks taken from (or free in) each KV group's pool.
struct KvBlocks {
  std::array<int64_t, model::kMaxKvGroups> group{};

  KvBlocks& operator+=(const KvBlocks& o) {
    for (size_t g = 0; g < group.size(); ++g) group[g] += o.group[g];
    return *this;
  }
  bool operator==(const KvBlocks&) const = default;
};

// How large the pools are.
struct KvSizing {
  // Positions of the full-attention layers over all sequences: num_ctx x slots.
  int64_t capacity_tokens = 4096;
  // Sliding-window pools hold, for each of `sequences` sequences, its window plus the
  // positions of one step (at most `step_tokens` over all sequences), like llama.cpp's SWA
  // cache (n_swa x n_seq + n_ubatch); never more than the full-attention pool. 0: as large as
  // the full-attention pool.
  int64_t sequences = 0;
  int64_t step_tokens = 0;
  // Sliding-window layers keep every position too (llama.cpp's --swa-full): the memory of a
  // full cache; prefixes are always reusable. For comparisons (benchmark, tests).
  bool swa_full = false;
};

// Blocks of each group's pool ([layout.n_groups()]) for `sizing`.
std::vector<int64_t> kv_capacity_blocks(const model::KvLayout& layout, const KvSizing& sizing);
// The most KV memory the pools of model `m` can hold (bytes).
size_t kv_capacity_bytes(const model::Model& m, const KvSizing& sizing, DType type);

class KvCache {
 public:
  KvCache(const model::Model& m, const KvSizing& sizing, DType type = DType::kF32);
  KvCache(const model::Model& m, int64_t capacity_tokens, DType type = DType::kF32)
      : KvCache(m, KvSizing{capacity_tokens}, type) {}

  const model::KvStorage& storage() const { return *storage_; }
  int64_t n_groups() const { return storage_->n_groups(); }
  // The window whose blocks a sequence keeps in group g (0: every position).
  int64_t window(int64_t g) const { return keep_window_[static_cast<size_t>(g)]; }
  int64_t capacity_blocks(int64_t g = 0) const { return storage_->capacity_blocks(g); }
  int64_t used_blocks(int64_t g = 0) const { return used_[static_cast<size_t>(g)]; }
  int64_t free_blocks(int64_t g = 0) const { return capacity_blocks(g) - used_blocks(g); }
  size_t block_bytes(int64_t g = 0) const { return storage_->block_bytes(g); }
  // Bytes of the blocks in use, over every group (what the cache really holds).
  size_t used_bytes() const;
  size_t capacity_bytes() const;
  // Whether every group has the free blocks `need` asks for.
  bool fits(const KvBlocks& need) const;

  SeqId create();
  // A new sequence sharing the first n_tokens cached positions of `src` (n_tokens <= length,
  // resumable(src, n_tokens)).
  SeqId fork(SeqId src, int64_t n_tokens);
  void free(SeqId seq);
  bool exists(SeqId seq) const { return seqs_.count(seq) != 0; }

  int64_t length(SeqId seq) const;  // cached positions
  // Whether the sequence's first n_tokens positions (n_tokens <= length) can be continued: every
  // position that the token after them attends to is still held.
  bool resumable(SeqId seq, int64_t n_tokens) const;
  // Drops cached positions >= n_tokens (blocks no longer needed return to the pool);
  // resumable(seq, n_tokens).
  void truncate(SeqId seq, int64_t n_tokens);

  // Blocks needed to append n more positions to seq (new blocks + copy-on-write copies).
  KvBlocks blocks_needed(SeqId seq, int64_t n) const;
  // Makes positions [length, length + n) writable: allocates blocks and copies shared ones
  // about to be written. Fails (changing nothing) when a pool has too few free blocks.
  Status prepare_append(SeqId seq, int64_t n);
  // Records that positions [length, length + n) now hold data (after the forward pass), and
  // returns the sliding-window blocks that the next token can no longer see to their pools.
  void commit_append(SeqId seq, int64_t n);

  // Group g's block table of seq: [ceil(length / kKvBlockTokens)], -1 where a block was
  // returned (outside the window).
  const std::vector<int32_t>& blocks(SeqId seq, int64_t g = 0) const;

 private:
  struct Seq {
    std::array<std::vector<int32_t>, model::kMaxKvGroups> blocks;  // [n_groups][n_blocks]
    int64_t length = 0;
  };
  // First block of group g that a sequence of `length` positions still needs.
  int64_t first_needed_block(int64_t g, int64_t length) const;
  int32_t alloc_block(int64_t g);
  void unref_block(int64_t g, int32_t b);

  std::unique_ptr<model::KvStorage> storage_;
  std::array<int64_t, model::kMaxKvGroups> keep_window_{};  // [n_groups] 0: keep every position
  // [n_groups][free blocks], each a min-heap: the lowest free block goes out first, so a
  // sequence's blocks tend to be consecutive (attention reads them as one stretch per layer
  // and head) and the blocks in use stay packed into few storage extents.
  std::array<std::vector<int32_t>, model::kMaxKvGroups> free_;
  std::array<std::vector<int32_t>, model::kMaxKvGroups> refs_;           // [n_groups][capacity_blocks]
  std::array<std::vector<int32_t>, model::kMaxKvGroups> extent_in_use_;  // [n_groups][extents] blocks
  std::array<int64_t, model::kMaxKvGroups> used_{};                      // [n_groups]
  std::unordered_map<SeqId, Seq> seqs_;
  SeqId next_id_ = 1;
};

}  // namespace corral::engine
