// Prompt positions shared between running sequences. The prefix cache (prefix_cache.h) lets a
// new sequence start from what is cached when it is admitted; this goes on while sequences run:
// before each step, a prefilling sequence whose next prompt positions an earlier-admitted
// sequence has already computed takes them from it (a copy-on-write fork of its KV) instead of
// computing them again, and one whose next positions an earlier sequence is computing right now
// waits for it. So requests with the same long prompt that arrive together (OpenAI's n, an agent
// framework fanning one conversation out to several tool calls, many users behind one system
// prompt) prefill it once, not once each.
// Not thread-safe: the engine thread owns it, like the KvCache.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/sequence.h"

namespace corral::engine {

struct PrefillSharing {
  // The sequences that take part in the next step (in the order given).
  std::vector<Sequence*> run;
  // Prompt positions taken from other sequences in this call (already counted in each
  // sequence's stats.cached_tokens).
  int64_t shared_tokens = 0;
  // Sequences that reused a prefix for the first time in this call (none from the prefix
  // cache at admission, none taken in an earlier step): each request counts as one hit.
  int64_t first_hits = 0;
};

// `running`: the sequences in prefilling or decoding state, in admission order. Moves the
// prefilling ones forward over positions another one holds (where it can be forked: a
// sliding-window model's window must still be held) (each keeps at least its last
// prompt position to evaluate, for its first logits) and holds back those whose next positions
// an earlier prefilling sequence is about to compute. Embedding sequences are left alone.
PrefillSharing share_prefills(const std::vector<Sequence*>& running, KvCache& kv);

}  // namespace corral::engine
