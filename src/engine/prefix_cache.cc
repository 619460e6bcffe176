#include "engine/prefix_cache.h"

#include <algorithm>

namespace corral::engine {
namespace {

size_t common_prefix(const std::vector<int32_t>& a, size_t a_len, const std::vector<int32_t>& b) {
  const size_t n = std::min(a_len, b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

PrefixCache::Start PrefixCache::start(const std::vector<int32_t>& prompt, const std::vector<HeldPrefix>& running) {
  const size_t max_reuse = prompt.empty() ? 0 : prompt.size() - 1;
  size_t best = 0;
  SeqId best_kv = 0;
  auto best_entry = entries_.end();
  // The longest prefix of `held` that the new sequence can continue from.
  auto reusable = [&](SeqId held, size_t c) { return c > 0 && kv_.resumable(held, static_cast<int64_t>(c)) ? c : 0; };
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const size_t c = reusable(it->kv, std::min(common_prefix(it->tokens, it->tokens.size(), prompt), max_reuse));
    if (c > best) best = c, best_kv = it->kv, best_entry = it;
  }
  for (const HeldPrefix& h : running) {
    if (h.n == 0) continue;
    const size_t c = reusable(h.kv, std::min(common_prefix(*h.tokens, h.n, prompt), max_reuse));
    if (c > best) best = c, best_kv = h.kv, best_entry = entries_.end();
  }
  if (best == 0) return Start{kv_.create(), 0};
  const Start s{kv_.fork(best_kv, static_cast<int64_t>(best)), best};
  if (best_entry != entries_.end() && best == best_entry->tokens.size()) {
    kv_.free(best_entry->kv);
    entries_.erase(best_entry);
  }
  return s;
}

void PrefixCache::keep(SeqId kv, std::vector<int32_t> tokens) {
  if (max_entries_ <= 0 || tokens.empty()) {
    kv_.free(kv);
    return;
  }
  entries_.push_front(Entry{kv, std::move(tokens)});
  while (static_cast<int>(entries_.size()) > max_entries_) drop_oldest();
}

bool PrefixCache::make_room(const KvBlocks& blocks) {
  while (!kv_.fits(blocks) && !entries_.empty()) drop_oldest();
  return kv_.fits(blocks);
}

void PrefixCache::clear() {
  while (!entries_.empty()) drop_oldest();
}

void PrefixCache::drop_oldest() {
  kv_.free(entries_.back().kv);
  entries_.pop_back();
}

}  // namespace corral::engine
