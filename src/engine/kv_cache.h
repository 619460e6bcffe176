// Block allocation for the paged KV cache of one model: which blocks each sequence owns, shared
// prefixes (fork) with copy-on-write, truncation and freeing. Blocks come from a pool whose
// capacity is an upper bound (num_ctx x slots); memory is only used by blocks holding tokens.
// Not thread-safe: one engine thread owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "model/kv_storage.h"
#include "model/model.h"

namespace corral::engine {

using SeqId = int64_t;

class KvCache {
 public:
  KvCache(const model::Model& m, int64_t capacity_tokens, DType type = DType::kF32);

  const model::KvStorage& storage() const { return *storage_; }
  int64_t capacity_blocks() const { return storage_->capacity_blocks(); }
  int64_t used_blocks() const { return used_blocks_; }
  int64_t free_blocks() const { return capacity_blocks() - used_blocks_; }
  size_t block_bytes() const { return storage_->block_bytes(); }

  SeqId create();
  // A new sequence sharing the first n_tokens cached positions of `src` (n_tokens <= length).
  SeqId fork(SeqId src, int64_t n_tokens);
  void free(SeqId seq);
  bool exists(SeqId seq) const { return seqs_.count(seq) != 0; }

  int64_t length(SeqId seq) const;  // cached positions
  // Drops cached positions >= n_tokens (blocks no longer needed return to the pool).
  void truncate(SeqId seq, int64_t n_tokens);

  // Blocks needed to append n more positions to seq (new blocks + copy-on-write copies).
  int64_t blocks_needed(SeqId seq, int64_t n) const;
  // Makes positions [length, length + n) writable: allocates blocks and copies shared ones
  // about to be written. Fails (changing nothing) when the pool has too few free blocks.
  Status prepare_append(SeqId seq, int64_t n);
  // Records that positions [length, length + n) now hold data (after the forward pass).
  void commit_append(SeqId seq, int64_t n);

  const std::vector<int32_t>& blocks(SeqId seq) const;

 private:
  struct Seq {
    std::vector<int32_t> blocks;
    int64_t length = 0;
  };
  int32_t alloc_block();
  void unref_block(int32_t b);

  std::unique_ptr<model::KvStorage> storage_;
  std::vector<int32_t> free_list_;
  std::vector<int32_t> refcount_;  // [capacity_blocks]
  int64_t used_blocks_ = 0;
  std::unordered_map<SeqId, Seq> seqs_;
  SeqId next_id_ = 1;
};

}  // namespace corral::engine
