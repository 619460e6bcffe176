#include "engine/prefill_sharing.h"

#include <algorithm>

namespace corral::engine {
namespace {

// Leading positions `a` and `b` agree on, looking at a's first a_len tokens.
size_t common_prefix(const std::vector<int32_t>& a, size_t a_len, const std::vector<int32_t>& b, size_t b_len) {
  const size_t n = std::min(a_len, b_len);
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

bool shares(const Sequence& s) { return !s.embedding && s.kv != 0 && s.running(); }

}  // namespace

PrefillSharing share_prefills(const std::vector<Sequence*>& running, KvCache& kv) {
  PrefillSharing out;
  out.run.reserve(running.size());
  for (size_t i = 0; i < running.size(); ++i) {
    Sequence& s = *running[i];
    if (s.state != Sequence::State::kPrefilling || !shares(s)) {
      out.run.push_back(&s);
      continue;
    }
    // One prompt position is always evaluated by the sequence itself: its logits start the
    // generation (the prefix cache keeps the same rule).
    const size_t limit = s.n_prompt - 1;
    // Take the most positions any other sequence holds now (n_fed) of s's prompt.
    size_t best_held = 0;
    SeqId best_kv = 0;
    for (size_t j = 0; j < running.size(); ++j) {
      const Sequence& l = *running[j];
      if (j == i || !shares(l)) continue;
      const size_t held = std::min(common_prefix(l.tokens, l.n_fed, s.tokens, s.n_prompt), limit);
      // A model with sliding-window layers can only be forked where the window before that
      // position is still held (kv_cache.h).
      if (held > best_held && kv.resumable(l.kv, static_cast<int64_t>(held))) best_held = held, best_kv = l.kv;
    }
    if (best_held > s.n_fed) {
      // The fork shares the other sequence's blocks copy-on-write; s's own copy of the
      // positions it had goes back to the pool.
      const SeqId forked = kv.fork(best_kv, static_cast<int64_t>(best_held));
      kv.free(s.kv);
      s.kv = forked;
      const auto taken = static_cast<int64_t>(best_held - s.n_fed);
      if (s.stats.cached_tokens == 0) ++out.first_hits;
      s.stats.cached_tokens += taken;
      out.shared_tokens += taken;
      s.n_fed = best_held;
    }
    // An earlier prefilling sequence at the same position is computing the prompt positions
    // s needs next: s waits a step rather than compute them twice. Only earlier ones are
    // waited for, so the waits form chains that end at a sequence that runs.
    bool wait = false;
    for (size_t j = 0; j < i && !wait; ++j) {
      const Sequence& l = *running[j];
      if (!shares(l) || l.state != Sequence::State::kPrefilling || l.n_fed != s.n_fed) continue;
      const size_t ahead = common_prefix(l.tokens, l.n_prompt, s.tokens, s.n_prompt);
      wait = std::min(ahead, limit) > s.n_fed;
    }
    if (!wait) out.run.push_back(&s);
  }
  return out;
}

}  // namespace corral::engine
