#include "engine/step_plan.h"

#include <algorithm>

namespace corral::engine {
namespace {

// Decode tokens first; prompt chunks share what they leave of the budget (at least one
// minimum chunk), in round-robin order from the oldest prompt, so one long prompt cannot
// starve the others.
std::vector<PlannedFeed> choose_feeds(const std::vector<Sequence*>& running, int64_t budget, size_t* n_decode) {
  std::vector<PlannedFeed> feeds;
  std::vector<Sequence*> prefill;
  for (Sequence* s : running) {
    if (s->state == Sequence::State::kDecoding) feeds.push_back({s, 1, Outputs::kLast});
    else if (s->state == Sequence::State::kPrefilling) prefill.push_back(s);
  }
  *n_decode = feeds.size();
  std::stable_sort(prefill.begin(), prefill.end(), [](Sequence* a, Sequence* b) { return a->order < b->order; });
  budget = std::max<int64_t>(budget - static_cast<int64_t>(feeds.size()), kMinPromptChunk);
  bool took_prompt = false;
  for (size_t i = 0; i < prefill.size() && budget > 0; ++i) {
    Sequence& s = *prefill[i];
    if (s.encoder) {
      // Whole or not at all: a non-causal model sees its sequence only in one pass. The oldest
      // prompt of a step goes even over the budget (up to num_ctx), so none waits forever.
      const auto n = static_cast<int64_t>(s.prompt_left());
      if (n > budget && took_prompt) continue;
      feeds.push_back({&s, n, Outputs::kAll});
      budget -= n;
      took_prompt = true;
      continue;
    }
    took_prompt = true;
    const int64_t share = std::max<int64_t>(kMinPromptChunk, budget / static_cast<int64_t>(prefill.size() - i));
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(s.prompt_left()), std::min(share, budget));
    const bool last = static_cast<size_t>(n) == s.prompt_left();
    feeds.push_back({&s, n, last ? Outputs::kLast : Outputs::kNone});
    budget -= n;
  }
  return feeds;
}

}  // namespace

StepPlan plan_step(const std::vector<Sequence*>& running, int64_t token_budget, const KvRoom& room) {
  StepPlan plan;
  size_t n_decode = 0;
  plan.feeds = choose_feeds(running, token_budget, &n_decode);
  auto blocks = [&] {
    KvBlocks b;
    for (const PlannedFeed& f : plan.feeds) b += room.blocks_needed(*f.seq, f.n_tokens);
    return b;
  };
  while (!plan.feeds.empty() && !room.make_room(blocks())) {
    // Prompt chunks wait a step; decoding sequences alone not fitting: the newest goes.
    if (plan.feeds.size() <= n_decode) {
      plan.evicted.push_back(plan.feeds.back().seq);
      --n_decode;
    }
    plan.feeds.pop_back();
  }
  return plan;
}

std::vector<SeqFeed> feeds_for(const StepPlan& plan) {
  std::vector<SeqFeed> feeds;
  feeds.reserve(plan.feeds.size());
  for (const PlannedFeed& f : plan.feeds) {
    const Sequence& s = *f.seq;
    const auto begin = s.tokens.begin() + static_cast<long>(s.n_fed);
    feeds.push_back({s.kv, std::vector<int32_t>(begin, begin + f.n_tokens), f.outputs});
  }
  return feeds;
}

}  // namespace corral::engine
