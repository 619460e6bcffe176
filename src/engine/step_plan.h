// Which sequences run in the next engine step and how many tokens each: one token for every
// decoding sequence first, then prompt chunks of prefilling ones in round-robin order (best
// priority, then oldest admission first) within the step's token budget, split equally between
// the tenants that have prompts to prefill (an encoder's prompt only whole, with every
// token's output; the oldest prompt goes even over the budget); then fitted into the KV pool, where kept
// prefixes give way first, then prompt chunks wait a step, and only then a decoding sequence
// (the newest) is evicted. A pure function of the sequences and the pool's answers, so it is
// tested without a model (like vLLM v1's schedule()).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/engine.h"
#include "engine/sequence.h"

namespace corral::engine {

struct PlannedFeed {
  Sequence* seq = nullptr;
  int64_t n_tokens = 0;  // tokens[n_fed, n_fed + n_tokens) go in this step
  Outputs outputs = Outputs::kLast;
};

struct StepPlan {
  std::vector<PlannedFeed> feeds;  // decode feeds first, then prompt chunks
  // Decoding sequences that do not fit in the KV pool even alone (only possible when requests
  // asked for more context than the pool was sized for): the caller fails them.
  std::vector<Sequence*> evicted;
};

// What the plan asks of the KV pool.
struct KvRoom {
  // Blocks that appending n tokens to the sequence takes from each KV group's pool (new
  // blocks + copy-on-write copies).
  std::function<KvBlocks(const Sequence& seq, int64_t n)> blocks_needed;
  // Frees room (drops kept prefixes) until `blocks` are free in every pool; whether they are.
  std::function<bool(const KvBlocks& blocks)> make_room;
};

// Prompt chunks smaller than this make a step cost more in overhead than it gains in fairness.
constexpr int64_t kMinPromptChunk = 32;

// `running`: the sequences in prefilling or decoding state, in admission order.
StepPlan plan_step(const std::vector<Sequence*>& running, int64_t token_budget, const KvRoom& room);

// The engine's feeds for a plan: each sequence's next tokens.
std::vector<SeqFeed> feeds_for(const StepPlan& plan);

}  // namespace corral::engine
