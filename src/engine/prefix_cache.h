// Prompt-prefix reuse over one KV cache: a new sequence starts as a fork of the longest prefix
// of its prompt that is already cached, held either by a finished sequence kept here or by a
// sequence still running (e.g. the same system prompt). Kept prefixes are dropped least
// recently kept first, when there are too many or when a step needs their blocks.
// Not thread-safe: the engine thread owns it, like the KvCache it points into.
#pragma once

#include <cstdint>
#include <list>
#include <vector>

#include "engine/kv_cache.h"

namespace corral::engine {

// Positions a running sequence holds in the cache: tokens[0, n) of `tokens`.
struct HeldPrefix {
  SeqId kv = 0;
  const std::vector<int32_t>* tokens = nullptr;
  size_t n = 0;
};

class PrefixCache {
 public:
  // max_entries: finished sequences kept for reuse (0: none).
  PrefixCache(KvCache& kv, int max_entries) : kv_(kv), max_entries_(max_entries) {}
  ~PrefixCache() { clear(); }
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  struct Start {
    SeqId kv = 0;       // the new sequence's KV id
    size_t reused = 0;  // leading prompt positions already cached
  };
  // A KV sequence for `prompt`: a fork of the longest common prefix with a kept or running
  // sequence, capped at prompt.size() - 1 (one prompt token is always evaluated, to produce the
  // first logits); else a fresh one. A kept prefix wholly inside the prompt is dropped: the
  // new sequence holds its blocks now. With sliding-window layers a prefix counts only when its
  // window is still cached (KvCache::resumable): a conversation continued from where it
  // stopped reuses everything; one that diverges further back than about a window from the
  // end of the cached sequence (whose older sliding-window blocks are gone) starts afresh.
  Start start(const std::vector<int32_t>& prompt, const std::vector<HeldPrefix>& running);

  // Keeps a finished sequence (exactly its cached positions `tokens`) for reuse, or frees it
  // when nothing may be kept.
  void keep(SeqId kv, std::vector<int32_t> tokens);

  // Drops kept prefixes, oldest first, until `blocks` are free in every pool; false if they
  // still are not.
  bool make_room(const KvBlocks& blocks);
  bool make_room(int64_t blocks) { return make_room(KvBlocks{{blocks}}); }  // the first pool's

  size_t size() const { return entries_.size(); }
  void clear();

 private:
  struct Entry {
    SeqId kv;
    std::vector<int32_t> tokens;  // exactly the positions held in the cache
  };
  void drop_oldest();

  KvCache& kv_;
  int max_entries_;
  std::list<Entry> entries_;  // most recently kept first
};

}  // namespace corral::engine
