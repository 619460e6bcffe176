#include "engine/kv_cache.h"

#include "base/check.h"

namespace corral::engine {

using model::kKvBlockTokens;

KvCache::KvCache(const model::Model& m, int64_t capacity_tokens, DType type) {
  const int64_t blocks = (capacity_tokens + kKvBlockTokens - 1) / kKvBlockTokens;
  storage_ = m.make_kv_storage(blocks, type);
  CORRAL_CHECK(storage_->ok() || blocks == 0, "cannot reserve address space for {} KV blocks", blocks);
  refcount_.assign(static_cast<size_t>(blocks), 0);
  free_list_.reserve(static_cast<size_t>(blocks));
  // Hand out low block numbers first so the touched address range stays compact.
  for (int64_t b = blocks - 1; b >= 0; --b) free_list_.push_back(static_cast<int32_t>(b));
}

SeqId KvCache::create() {
  const SeqId id = next_id_++;
  seqs_.emplace(id, Seq{});
  return id;
}

SeqId KvCache::fork(SeqId src, int64_t n_tokens) {
  const Seq& s = seqs_.at(src);
  CORRAL_CHECK(n_tokens >= 0 && n_tokens <= s.length, "fork past the end");
  Seq copy;
  copy.length = n_tokens;
  const int64_t n_blocks = (n_tokens + kKvBlockTokens - 1) / kKvBlockTokens;
  copy.blocks.assign(s.blocks.begin(), s.blocks.begin() + n_blocks);
  for (int32_t b : copy.blocks) ++refcount_[b];
  const SeqId id = next_id_++;
  seqs_.emplace(id, std::move(copy));
  return id;
}

void KvCache::free(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  for (int32_t b : it->second.blocks) unref_block(b);
  seqs_.erase(it);
}

int64_t KvCache::length(SeqId seq) const { return seqs_.at(seq).length; }

const std::vector<int32_t>& KvCache::blocks(SeqId seq) const { return seqs_.at(seq).blocks; }

void KvCache::truncate(SeqId seq, int64_t n_tokens) {
  Seq& s = seqs_.at(seq);
  if (n_tokens >= s.length) return;
  CORRAL_CHECK(n_tokens >= 0, "negative truncate");
  const size_t keep = static_cast<size_t>((n_tokens + kKvBlockTokens - 1) / kKvBlockTokens);
  while (s.blocks.size() > keep) {
    unref_block(s.blocks.back());
    s.blocks.pop_back();
  }
  s.length = n_tokens;
}

int64_t KvCache::blocks_needed(SeqId seq, int64_t n) const {
  const Seq& s = seqs_.at(seq);
  if (n <= 0) return 0;
  const int64_t end = s.length + n;
  const int64_t total = (end + kKvBlockTokens - 1) / kKvBlockTokens;
  int64_t need = total - static_cast<int64_t>(s.blocks.size());
  // The partially filled last block is written into: if shared, it must be copied first.
  if (s.length % kKvBlockTokens != 0 && refcount_[s.blocks.back()] > 1) ++need;
  return need;
}

Status KvCache::prepare_append(SeqId seq, int64_t n) {
  const int64_t need = blocks_needed(seq, n);
  if (need > free_blocks())
    return Status::errorf("KV cache full: need {} blocks, {} free of {}", need, free_blocks(), capacity_blocks());
  Seq& s = seqs_.at(seq);
  if (n <= 0) return Status::ok();
  if (s.length % kKvBlockTokens != 0 && refcount_[s.blocks.back()] > 1) {
    const int32_t fresh = alloc_block();
    storage_->copy_block(s.blocks.back(), fresh);
    unref_block(s.blocks.back());
    s.blocks.back() = fresh;
  }
  const int64_t total = (s.length + n + kKvBlockTokens - 1) / kKvBlockTokens;
  while (static_cast<int64_t>(s.blocks.size()) < total) s.blocks.push_back(alloc_block());
  return Status::ok();
}

void KvCache::commit_append(SeqId seq, int64_t n) {
  Seq& s = seqs_.at(seq);
  CORRAL_CHECK((s.length + n + kKvBlockTokens - 1) / kKvBlockTokens <= static_cast<int64_t>(s.blocks.size()),
               "commit_append without prepare_append");
  s.length += n;
}

int32_t KvCache::alloc_block() {
  CORRAL_CHECK(!free_list_.empty(), "KV pool exhausted");
  const int32_t b = free_list_.back();
  free_list_.pop_back();
  refcount_[b] = 1;
  ++used_blocks_;
  return b;
}

void KvCache::unref_block(int32_t b) {
  CORRAL_CHECK(refcount_[b] > 0, "double free of KV block {}", b);
  if (--refcount_[b] == 0) {
    storage_->release(b);
    free_list_.push_back(b);
    --used_blocks_;
  }
}

}  // namespace corral::engine
