#include "engine/kv_cache.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include "base/check.h"

namespace corral::engine {

using model::kKvBlockTokens;

namespace {

int64_t blocks_for(int64_t tokens) { return (tokens + kKvBlockTokens - 1) / kKvBlockTokens; }

}  // namespace

std::vector<int64_t> kv_capacity_blocks(const model::KvLayout& layout, const KvSizing& sizing) {
  const int64_t full = blocks_for(sizing.capacity_tokens);
  std::vector<int64_t> out;
  for (int64_t w : layout.windows) {
    if (w == 0 || sizing.swa_full || sizing.sequences <= 0) {
      out.push_back(full);
      continue;
    }
    // A sequence holds the blocks touching its last window - 1 positions (at most
    // blocks_for(w - 1) + 1); a step appends at most step_tokens positions over all sequences,
    // each sequence's share starting in a partial block (+1 per sequence).
    const int64_t per_seq = blocks_for(w - 1) + 2;
    out.push_back(std::min(full, sizing.sequences * per_seq + blocks_for(sizing.step_tokens)));
  }
  return out;
}

size_t kv_capacity_bytes(const model::Model& m, const KvSizing& sizing, DType type) {
  const model::KvLayout layout = m.kv_layout();
  const std::vector<int64_t> blocks = kv_capacity_blocks(layout, sizing);
  const auto& c = m.config();
  if (!c.causal) return 0;  // an encoder caches nothing
  // A block of one layer holds K and V rows of every KV head for kKvBlockTokens positions, in
  // the type the pool really holds (quantized rows: their blocks' bytes, scales included).
  const size_t row = model::kv_row_bytes(model::kv_storage_type(type, c.head_dim), c.head_dim);
  size_t bytes = 0;
  for (size_t g = 0; g < blocks.size(); ++g)
    bytes += static_cast<size_t>(blocks[g]) * static_cast<size_t>(layout.group_size[g]) * 2 *
             static_cast<size_t>(c.n_head_kv * kKvBlockTokens) * row;
  return bytes;
}

KvCache::KvCache(const model::Model& m, const KvSizing& sizing, DType type) {
  const model::KvLayout layout = m.kv_layout();
  const std::vector<int64_t> capacity = kv_capacity_blocks(layout, sizing);
  storage_ = m.make_kv_storage(capacity, type);
  CORRAL_CHECK(storage_->ok(), "cannot reserve address space for the KV cache");
  for (size_t g = 0; g < capacity.size(); ++g) {
    keep_window_[g] = sizing.swa_full ? 0 : layout.windows[g];
    refs_[g].assign(static_cast<size_t>(capacity[g]), 0);
    const int64_t per_extent = storage_->blocks_per_extent(static_cast<int64_t>(g));
    extent_in_use_[g].assign(static_cast<size_t>((capacity[g] + per_extent - 1) / per_extent), 0);
    // Ascending order is already a min-heap.
    free_[g].resize(static_cast<size_t>(capacity[g]));
    std::iota(free_[g].begin(), free_[g].end(), 0);
  }
}

size_t KvCache::used_bytes() const {
  size_t bytes = 0;
  for (int64_t g = 0; g < n_groups(); ++g) bytes += static_cast<size_t>(used_blocks(g)) * block_bytes(g);
  return bytes;
}

size_t KvCache::capacity_bytes() const {
  size_t bytes = 0;
  for (int64_t g = 0; g < n_groups(); ++g) bytes += static_cast<size_t>(capacity_blocks(g)) * block_bytes(g);
  return bytes;
}

bool KvCache::fits(const KvBlocks& need) const {
  for (int64_t g = 0; g < n_groups(); ++g)
    if (need.group[static_cast<size_t>(g)] > free_blocks(g)) return false;
  return true;
}

int64_t KvCache::first_needed_block(int64_t g, int64_t length) const {
  const int64_t w = window(g);
  return w > 0 ? std::max<int64_t>(0, length - w + 1) / kKvBlockTokens : 0;
}

SeqId KvCache::create() {
  const SeqId id = next_id_++;
  seqs_.emplace(id, Seq{});
  return id;
}

bool KvCache::resumable(SeqId seq, int64_t n_tokens) const {
  const Seq& s = seqs_.at(seq);
  if (n_tokens < 0 || n_tokens > s.length) return false;
  // Dropped blocks are always a prefix of a table: the first needed one tells.
  for (int64_t g = 0; g < n_groups(); ++g) {
    const int64_t first = first_needed_block(g, n_tokens);
    if (first < blocks_for(n_tokens) && s.blocks[static_cast<size_t>(g)][static_cast<size_t>(first)] < 0) return false;
  }
  return true;
}

SeqId KvCache::fork(SeqId src, int64_t n_tokens) {
  CORRAL_CHECK(resumable(src, n_tokens), "fork at {} of a sequence that cannot resume there", n_tokens);
  const Seq& s = seqs_.at(src);
  Seq copy;
  copy.length = n_tokens;
  const int64_t n_blocks = blocks_for(n_tokens);
  for (int64_t g = 0; g < n_groups(); ++g) {
    const std::vector<int32_t>& from = s.blocks[static_cast<size_t>(g)];
    std::vector<int32_t>& to = copy.blocks[static_cast<size_t>(g)];
    to.assign(from.begin(), from.begin() + n_blocks);
    const int64_t first = first_needed_block(g, n_tokens);
    for (int64_t b = 0; b < n_blocks; ++b) {
      if (b < first) to[static_cast<size_t>(b)] = -1;  // outside the fork's window: not shared
      else ++refs_[static_cast<size_t>(g)][static_cast<size_t>(to[static_cast<size_t>(b)])];
    }
  }
  const SeqId id = next_id_++;
  seqs_.emplace(id, std::move(copy));
  return id;
}

void KvCache::free(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  for (int64_t g = 0; g < n_groups(); ++g)
    for (int32_t b : it->second.blocks[static_cast<size_t>(g)])
      if (b >= 0) unref_block(g, b);
  seqs_.erase(it);
}

int64_t KvCache::length(SeqId seq) const { return seqs_.at(seq).length; }

const std::vector<int32_t>& KvCache::blocks(SeqId seq, int64_t g) const {
  return seqs_.at(seq).blocks[static_cast<size_t>(g)];
}

void KvCache::truncate(SeqId seq, int64_t n_tokens) {
  Seq& s = seqs_.at(seq);
  if (n_tokens >= s.length) return;
  CORRAL_CHECK(resumable(seq, n_tokens), "truncate to {} below the kept window", n_tokens);
  const size_t keep = static_cast<size_t>(blocks_for(n_tokens));
  for (int64_t g = 0; g < n_groups(); ++g) {
    std::vector<int32_t>& t = s.blocks[static_cast<size_t>(g)];
    while (t.size() > keep) {
      if (t.back() >= 0) unref_block(g, t.back());
      t.pop_back();
    }
  }
  s.length = n_tokens;
}

KvBlocks KvCache::blocks_needed(SeqId seq, int64_t n) const {
  const Seq& s = seqs_.at(seq);
  KvBlocks need;
  if (n <= 0) return need;
  const int64_t total = blocks_for(s.length + n);
  for (int64_t g = 0; g < n_groups(); ++g) {
    const std::vector<int32_t>& t = s.blocks[static_cast<size_t>(g)];
    int64_t& k = need.group[static_cast<size_t>(g)];
    k = total - static_cast<int64_t>(t.size());
    // The partially filled last block is written into: if shared (or returned), it must be
    // copied (or taken) first.
    if (s.length % kKvBlockTokens != 0 && (t.back() < 0 || refs_[static_cast<size_t>(g)][t.back()] > 1)) ++k;
  }
  return need;
}

Status KvCache::prepare_append(SeqId seq, int64_t n) {
  const KvBlocks need = blocks_needed(seq, n);
  if (!fits(need)) {
    for (int64_t g = 0; g < n_groups(); ++g)
      if (need.group[static_cast<size_t>(g)] > free_blocks(g))
        return Status::errorf("KV cache full: need {} blocks, {} free of {}", need.group[static_cast<size_t>(g)],
                              free_blocks(g), capacity_blocks(g));
  }
  Seq& s = seqs_.at(seq);
  if (n <= 0) return Status::ok();
  const int64_t total = blocks_for(s.length + n);
  for (int64_t g = 0; g < n_groups(); ++g) {
    std::vector<int32_t>& t = s.blocks[static_cast<size_t>(g)];
    if (s.length % kKvBlockTokens != 0) {
      int32_t& last = t.back();
      if (last < 0) {
        last = alloc_block(g);
      } else if (refs_[static_cast<size_t>(g)][last] > 1) {
        const int32_t fresh = alloc_block(g);
        storage_->copy_block(g, last, fresh);
        unref_block(g, last);
        last = fresh;
      }
    }
    while (static_cast<int64_t>(t.size()) < total) t.push_back(alloc_block(g));
  }
  return Status::ok();
}

void KvCache::commit_append(SeqId seq, int64_t n) {
  Seq& s = seqs_.at(seq);
  CORRAL_CHECK(blocks_for(s.length + n) <= static_cast<int64_t>(s.blocks[0].size()),
               "commit_append without prepare_append");
  s.length += n;
  for (int64_t g = 0; g < n_groups(); ++g) {
    std::vector<int32_t>& t = s.blocks[static_cast<size_t>(g)];
    // Blocks below the window go back, newest first, down to the first already returned.
    for (int64_t b = first_needed_block(g, s.length) - 1; b >= 0 && t[static_cast<size_t>(b)] >= 0; --b) {
      unref_block(g, t[static_cast<size_t>(b)]);
      t[static_cast<size_t>(b)] = -1;
    }
  }
}

int32_t KvCache::alloc_block(int64_t g) {
  std::vector<int32_t>& fl = free_[static_cast<size_t>(g)];
  CORRAL_CHECK(!fl.empty(), "KV pool exhausted");
  std::pop_heap(fl.begin(), fl.end(), std::greater<>());
  const int32_t b = fl.back();
  fl.pop_back();
  refs_[static_cast<size_t>(g)][b] = 1;
  ++extent_in_use_[static_cast<size_t>(g)][b / storage_->blocks_per_extent(g)];
  ++used_[static_cast<size_t>(g)];
  return b;
}

void KvCache::unref_block(int64_t g, int32_t b) {
  int32_t& r = refs_[static_cast<size_t>(g)][b];
  CORRAL_CHECK(r > 0, "double free of KV block {} of group {}", b, g);
  if (--r == 0) {
    std::vector<int32_t>& fl = free_[static_cast<size_t>(g)];
    fl.push_back(b);
    std::push_heap(fl.begin(), fl.end(), std::greater<>());
    --used_[static_cast<size_t>(g)];
    const int64_t extent = b / storage_->blocks_per_extent(g);
    // The extent's pages go back to the OS when its last block in use is freed.
    if (--extent_in_use_[static_cast<size_t>(g)][extent] == 0) storage_->release_extent(g, extent);
  }
}

}  // namespace corral::engine
