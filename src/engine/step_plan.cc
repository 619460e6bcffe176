#include "engine/step_plan.h"

#include <algorithm>

namespace corral::engine {
namespace {

// One tenant's prompt chunks within `budget`: round robin from its oldest prompt, each taking
// an equal share of what is left (at least one minimum chunk).
int64_t choose_prompt_chunks(const std::vector<Sequence*>& prefill, int64_t budget, bool* took_prompt,
                             std::vector<PlannedFeed>* feeds) {
  int64_t used = 0;
  for (size_t i = 0; i < prefill.size() && budget - used > 0; ++i) {
    Sequence& s = *prefill[i];
    const int64_t left = budget - used;
    if (s.encoder) {
      // Whole or not at all: a non-causal model sees its sequence only in one pass. The oldest
      // prompt of a step goes even over the budget (up to num_ctx), so none waits forever.
      const auto n = static_cast<int64_t>(s.prompt_left());
      if (n > left && *took_prompt) continue;
      feeds->push_back({&s, n, Outputs::kAll});
      used += n;
      *took_prompt = true;
      continue;
    }
    *took_prompt = true;
    const int64_t share = std::max<int64_t>(kMinPromptChunk, left / static_cast<int64_t>(prefill.size() - i));
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(s.prompt_left()), std::min(share, left));
    const bool last = static_cast<size_t>(n) == s.prompt_left();
    feeds->push_back({&s, n, last ? Outputs::kLast : Outputs::kNone});
    used += n;
  }
  return used;
}

// Each tenant's part of the prompt budget: equal shares, where a tenant whose prompts need less
// than its share leaves the rest to the others (max-min fair), at least one minimum chunk each.
// One tenant gets the whole budget (the plain round robin).
std::vector<int64_t> tenant_quotas(const std::vector<std::vector<Sequence*>>& tenants, int64_t budget) {
  if (tenants.size() == 1) return {budget};
  std::vector<int64_t> demand(tenants.size());
  for (size_t t = 0; t < tenants.size(); ++t)
    for (const Sequence* s : tenants[t]) demand[t] += static_cast<int64_t>(s->prompt_left());
  std::vector<size_t> by_demand(tenants.size());
  for (size_t t = 0; t < by_demand.size(); ++t) by_demand[t] = t;
  std::stable_sort(by_demand.begin(), by_demand.end(), [&](size_t a, size_t b) { return demand[a] < demand[b]; });
  std::vector<int64_t> quotas(tenants.size());
  int64_t left = budget;
  for (size_t i = 0; i < by_demand.size(); ++i) {
    const int64_t fair = std::max<int64_t>(kMinPromptChunk, left / static_cast<int64_t>(by_demand.size() - i));
    const size_t t = by_demand[i];
    quotas[t] = std::min(demand[t], fair);
    left = std::max<int64_t>(0, left - quotas[t]);
  }
  return quotas;
}

// Decode tokens first; prompt chunks share what they leave of the budget (at least one
// minimum chunk): the tenants with prompts equally (in the order of their best prompt), and
// within a tenant round robin from its oldest prompt, so neither one long prompt nor one
// tenant's many prompts starve the others. With one tenant this is plain round robin.
std::vector<PlannedFeed> choose_feeds(const std::vector<Sequence*>& running, int64_t budget, size_t* n_decode) {
  std::vector<PlannedFeed> feeds;
  std::vector<Sequence*> prefill;
  for (Sequence* s : running) {
    if (s->state == Sequence::State::kDecoding) feeds.push_back({s, 1, Outputs::kLast});
    else if (s->state == Sequence::State::kPrefilling) prefill.push_back(s);
  }
  *n_decode = feeds.size();
  std::stable_sort(prefill.begin(), prefill.end(), [](Sequence* a, Sequence* b) {
    return a->priority != b->priority ? a->priority < b->priority : a->order < b->order;
  });
  std::vector<std::vector<Sequence*>> tenants;  // in the order of each tenant's first prompt
  for (Sequence* s : prefill) {
    auto it =
        std::find_if(tenants.begin(), tenants.end(), [&](const auto& t) { return t.front()->tenant == s->tenant; });
    if (it == tenants.end()) tenants.push_back({s});
    else it->push_back(s);
  }
  budget = std::max<int64_t>(budget - static_cast<int64_t>(feeds.size()), kMinPromptChunk);
  const std::vector<int64_t> quotas = tenant_quotas(tenants, budget);
  bool took_prompt = false;
  int64_t carry = 0;  // what a tenant left of its quota goes to the next
  for (size_t t = 0; t < tenants.size() && budget > 0; ++t) {
    const int64_t quota = std::min(quotas[t] + carry, budget);
    const int64_t used = choose_prompt_chunks(tenants[t], quota, &took_prompt, &feeds);
    carry = std::max<int64_t>(0, quota - used);
    budget -= used;
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
