// A sequence's logits must not depend on which other sequences share its batch, nor on how
// its own prompt is split into chunks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "base/thread_pool.h"
#include "common/test_data.h"
#include "engine/engine.h"
#include "model/model.h"

namespace corral::engine {
namespace {

std::vector<int32_t> make_tokens(int n, int seed, int64_t vocab) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(static_cast<int32_t>((seed * 7919 + i * 104729) % (vocab - 3) + 3));
  return t;
}

int32_t argmax(const float* x, int64_t n) { return static_cast<int32_t>(std::max_element(x, x + n) - x); }

double nmse(const float* a, const float* b, int64_t n) {
  double e = 0, s = 0;
  for (int64_t i = 0; i < n; ++i) {
    e += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    s += static_cast<double>(b[i]) * b[i];
  }
  return e / s;
}

class BatchInvariance : public ::testing::TestWithParam<const char*> {};

TEST_P(BatchInvariance, AloneEqualsBatchedWithSevenOthers) {
  auto m = model::load_model(testing::test_data_path(GetParam()));
  ASSERT_TRUE(m.is_ok()) << m.error();
  const int64_t V = m.value()->config().n_vocab;
  const std::vector<int32_t> prompt = make_tokens(37, 1, V);
  constexpr int kSteps = 12;

  // Alone: whole prompt in one batch, then one token per step.
  std::vector<std::vector<float>> alone;
  {
    Engine eng(m.value(), EngineConfig{4096}, ThreadPool::global());
    SeqId s = eng.kv().create();
    std::vector<float> logits;
    eng.eval({{s, prompt, Outputs::kLast}}, &logits);
    alone.push_back(logits);
    for (int step = 0; step < kSteps; ++step) {
      eng.eval({{s, {argmax(logits.data(), V)}, Outputs::kLast}}, &logits);
      alone.push_back(logits);
    }
  }

  // Batched: 7 other sequences, each at a different position (different prompt lengths, some
  // still prefilling in chunks), and our prompt itself fed in chunks of 10.
  Engine eng(m.value(), EngineConfig{4096}, ThreadPool::global());
  SeqId s = eng.kv().create();
  std::vector<SeqId> others;
  std::vector<std::vector<int32_t>> other_prompts;
  std::vector<size_t> other_fed;
  for (int o = 0; o < 7; ++o) {
    others.push_back(eng.kv().create());
    other_prompts.push_back(make_tokens(5 + 13 * o, 100 + o, V));
    other_fed.push_back(0);
  }
  std::vector<std::vector<float>> batched;
  size_t fed = 0;
  std::vector<int32_t> next_other(7, 0);
  int32_t next = -1;
  while (batched.size() < alone.size()) {
    std::vector<SeqFeed> feeds;
    // Ours first, in the middle of the batch on odd steps.
    SeqFeed mine{s, {}, Outputs::kLast};
    if (fed < prompt.size()) {
      const size_t n = std::min<size_t>(10, prompt.size() - fed);
      mine.tokens.assign(prompt.begin() + fed, prompt.begin() + fed + n);
      mine.outputs = fed + n == prompt.size() ? Outputs::kLast : Outputs::kNone;
      fed += n;
    } else {
      mine.tokens = {next};
    }
    for (int o = 0; o < 7; ++o) {
      SeqFeed f{others[o], {}, Outputs::kLast};
      if (other_fed[o] < other_prompts[o].size()) {
        const size_t n = std::min<size_t>(16, other_prompts[o].size() - other_fed[o]);
        f.tokens.assign(other_prompts[o].begin() + other_fed[o], other_prompts[o].begin() + other_fed[o] + n);
        other_fed[o] += n;
      } else {
        f.tokens = {next_other[o]};
      }
      feeds.push_back(std::move(f));
      if (o == 3 && batched.size() % 2 == 1) feeds.push_back(mine);
    }
    if (batched.size() % 2 == 0) feeds.insert(feeds.begin(), mine);
    std::vector<float> logits;
    eng.eval(feeds, &logits);
    // Rows follow feed order; feeds with kNone produce none.
    size_t row = 0;
    for (const SeqFeed& f : feeds) {
      if (f.outputs == Outputs::kNone) continue;
      const float* r = logits.data() + row * V;
      if (f.seq == s) {
        batched.emplace_back(r, r + V);
        next = argmax(r, V);
      } else {
        const size_t o = std::find(others.begin(), others.end(), f.seq) - others.begin();
        next_other[o] = argmax(r, V);
      }
      ++row;
    }
  }
  for (size_t i = 0; i < alone.size(); ++i) {
    EXPECT_LE(nmse(batched[i].data(), alone[i].data(), V), 1e-10) << "step " << i;
    EXPECT_EQ(argmax(batched[i].data(), V), argmax(alone[i].data(), V)) << "step " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, BatchInvariance,
                         ::testing::Values("models/synthetic/syn-llama-f32.gguf",
                                           "models/synthetic/syn-llama-q4_k_m.gguf",
                                           "models/synthetic/syn-qwen2-q8_0.gguf", "models/stories260K.gguf",
                                           // Sliding-window layers (window 32 < the 37-token prompt).
                                           "models/synthetic/syn-gemma3-q8_0.gguf",
                                           // Experts run over the tokens of all sequences at once.
                                           "models/synthetic/syn-qwen3moe-q4_k_m.gguf",
                                           // Attention sinks, even-layer windows, YaRN, biased
                                           // experts with top-k-then-softmax gating (gpt-oss).
                                           "models/synthetic/syn-gptoss-q8_0.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           n = n.substr(n.rfind('/') + 1);
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace corral::engine
