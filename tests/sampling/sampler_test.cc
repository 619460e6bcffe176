#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace corral::sampling {
namespace {

SamplingParams greedy_params() {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repeat_penalty = 1.0f;
  return p;
}

std::vector<float> random_logits(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(SamplingParams, DefaultsAreOllamas) {
  SamplingParams p;
  EXPECT_EQ(p.temperature, 0.8f);
  EXPECT_EQ(p.top_k, 40);
  EXPECT_EQ(p.top_p, 0.9f);
  EXPECT_EQ(p.min_p, 0.0f);
  EXPECT_EQ(p.typical_p, 1.0f);
  EXPECT_EQ(p.repeat_penalty, 1.1f);
  EXPECT_EQ(p.repeat_last_n, 64);
  EXPECT_EQ(p.presence_penalty, 0.0f);
  EXPECT_EQ(p.frequency_penalty, 0.0f);
  EXPECT_EQ(p.seed, -1);
  EXPECT_TRUE(validate(p).is_ok());
}

TEST(SamplingParams, ValidationRejectsNonsense) {
  SamplingParams p;
  p.temperature = std::numeric_limits<float>::quiet_NaN();
  Status s = validate(p);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("temperature"), std::string::npos) << s.message();

  p = {};
  p.top_p = std::numeric_limits<float>::infinity();
  EXPECT_NE(validate(p).message().find("top_p"), std::string::npos);

  p = {};
  p.repeat_last_n = -2;
  EXPECT_NE(validate(p).message().find("repeat_last_n"), std::string::npos);

  p = {};
  p.repeat_penalty = 0.0f;
  EXPECT_NE(validate(p).message().find("repeat_penalty"), std::string::npos);

  // Out of range but meaningful in llama.cpp / Ollama: accepted.
  p = {};
  p.top_k = -5;
  p.top_p = 1.5f;
  p.temperature = -1.0f;
  p.repeat_last_n = -1;
  p.seed = 12345;
  EXPECT_TRUE(validate(p).is_ok());
}

TEST(Sampler, GreedyPicksArgmaxWithTiesToLowestId) {
  Sampler s(greedy_params(), 5);
  const float logits[] = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f};
  EXPECT_EQ(s.sample(logits), 1);
  Sampler neg(greedy_params(), 3);
  const float all_equal[] = {-2.0f, -2.0f, -2.0f};
  EXPECT_EQ(neg.sample(all_equal), 0);
  SamplingParams p = greedy_params();
  p.temperature = -0.5f;  // negative is greedy too
  Sampler s2(p, 5);
  EXPECT_EQ(s2.sample(logits), 1);
}

TEST(Sampler, DoesNotModifyLogitsAndIgnoresNaN) {
  SamplingParams p;
  p.seed = 7;
  Sampler s(p, 4);
  s.accept_prompt(std::vector<int32_t>{0, 1});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> logits = {5.0f, nan, 4.0f, 1.0f};
  const std::vector<float> copy = logits;
  for (int i = 0; i < 200; ++i) {
    const int32_t t = s.sample(logits.data());
    EXPECT_NE(t, 1);
    s.accept(t);
  }
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(copy[i])) {
      EXPECT_TRUE(std::isnan(logits[i]));
    } else {
      EXPECT_EQ(logits[i], copy[i]);
    }
  }
}

TEST(Sampler, TinyTemperatureActsLikeGreedy) {
  SamplingParams p;
  p.temperature = 1e-30f;  // logits / t would overflow to inf without the shift
  p.top_k = 0;
  p.top_p = 1.0f;
  p.repeat_penalty = 1.0f;
  p.seed = 11;
  Sampler s(p, 1000);
  Sampler g(greedy_params(), 1000);
  for (uint32_t i = 0; i < 50; ++i) {
    const auto logits = random_logits(1000, 500 + i);
    EXPECT_EQ(s.sample(logits.data()), g.sample(logits.data()));
  }
}

TEST(Sampler, TopK1EqualsGreedy) {
  SamplingParams p;
  p.top_k = 1;
  p.temperature = 1.5f;
  p.seed = 3;
  p.repeat_penalty = 1.0f;
  Sampler s(p, 1000);
  Sampler g(greedy_params(), 1000);
  for (uint32_t i = 0; i < 100; ++i) {
    auto logits = random_logits(1000, i);
    logits[i * 7 % 1000] = logits[(i * 7 + 1) % 1000] = 100.0f;  // a tie for the maximum
    EXPECT_EQ(s.sample(logits.data()), g.sample(logits.data()));
  }
}

std::vector<int32_t> run(const SamplingParams& p, int n_vocab, int steps) {
  Sampler s(p, n_vocab);
  std::vector<int32_t> out;
  for (int i = 0; i < steps; ++i) {
    auto logits = random_logits(n_vocab, 1000 + i);
    const int32_t t = s.sample(logits.data());
    s.accept(t);
    out.push_back(t);
  }
  return out;
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  SamplingParams p;
  p.temperature = 1.2f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.seed = 42;
  const auto a = run(p, 500, 200);
  const auto b = run(p, 500, 200);
  EXPECT_EQ(a, b);
  p.seed = 43;
  const auto c = run(p, 500, 200);
  EXPECT_NE(a, c);
  // Interleaving another sequence's sampling does not change a sequence's draws.
  p.seed = 42;
  Sampler s1(p, 500);
  SamplingParams other = p;
  other.seed = 99;
  Sampler noisy(other, 500);
  for (int i = 0; i < 200; ++i) {
    auto logits = random_logits(500, 1000 + i);
    noisy.sample(logits.data());
    const int32_t t = s1.sample(logits.data());
    s1.accept(t);
    EXPECT_EQ(t, a[i]);
  }
}

TEST(Sampler, RandomSeedIsReportedAndReproduces) {
  SamplingParams p;
  p.temperature = 1.0f;
  Sampler s(p, 100);
  SamplingParams fixed = p;
  fixed.seed = static_cast<int64_t>(s.seed());
  Sampler t(fixed, 100);
  for (int i = 0; i < 50; ++i) {
    auto logits = random_logits(100, i);
    const int32_t a = s.sample(logits.data());
    const int32_t b = t.sample(logits.data());
    ASSERT_EQ(a, b);
    s.accept(a);
    t.accept(b);
  }
}

// The distribution the chain should sample from, computed independently of sampler_steps:
// rank, top-k, softmax (T = 1), top-p prefix, min-p, then softmax(logit / T) over the rest.
std::vector<double> expected_distribution(const std::vector<float>& logits, int k, float top_p, float min_p,
                                          float temp) {
  const int n = static_cast<int>(logits.size());
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  if (k > 0 && k < n) order.resize(k);
  auto probs = [&](const std::vector<int>& ids, float t) {
    double mx = -1e30;
    for (int i : ids) mx = std::max<double>(mx, logits[i] / t);
    std::vector<double> p;
    double sum = 0;
    for (int i : ids) {
      p.push_back(std::exp(logits[i] / t - mx));
      sum += p.back();
    }
    for (auto& x : p) x /= sum;
    return p;
  };
  if (top_p < 1.0f) {
    const auto p = probs(order, 1.0f);
    double cum = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      cum += p[i];
      if (cum >= top_p) {
        order.resize(i + 1);
        break;
      }
    }
  }
  if (min_p > 0.0f) {
    const auto p = probs(order, 1.0f);
    const double pmax = *std::max_element(p.begin(), p.end());
    std::vector<int> kept;
    for (size_t i = 0; i < order.size(); ++i) {
      if (p[i] >= min_p * pmax) kept.push_back(order[i]);
    }
    order = kept;
  }
  std::vector<double> out(n, 0.0);
  const auto p = probs(order, temp);
  for (size_t i = 0; i < order.size(); ++i) out[order[i]] = p[i];
  return out;
}

void check_distribution(const SamplingParams& p, const std::vector<float>& logits) {
  const int n = static_cast<int>(logits.size());
  const auto expected = expected_distribution(logits, p.top_k, p.top_p, p.min_p, p.temperature);
  Sampler s(p, n);
  constexpr int kDraws = 200000;
  std::vector<int> counts(n, 0);
  for (int i = 0; i < kDraws; ++i) counts[s.sample(logits.data())]++;
  for (int i = 0; i < n; ++i) {
    const double q = expected[i];
    const double f = static_cast<double>(counts[i]) / kDraws;
    if (q == 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " is outside the truncated set";
      continue;
    }
    // Five standard deviations of a binomial proportion: a false alarm every ~3.5 million
    // checks, while a wrong truncation or temperature moves some token by far more.
    const double sigma = std::sqrt(q * (1 - q) / kDraws);
    EXPECT_NEAR(f, q, 5 * sigma + 1e-4) << "token " << i;
  }
}

TEST(Sampler, EmpiricalDistributionMatchesTruncatedSoftmax) {
  const std::vector<float> logits = {2.0f, 1.5f, 1.2f, 0.3f, -0.5f, 2.2f, -3.0f, 0.9f, 1.0f, 0.0f};
  SamplingParams p;
  p.repeat_penalty = 1.0f;
  p.seed = 1234;
  p.temperature = 0.7f;
  p.top_k = 6;
  p.top_p = 0.9f;
  p.min_p = 0.0f;
  check_distribution(p, logits);
  p.top_k = 0;  // top-p alone over the whole vocabulary
  p.top_p = 0.8f;
  p.temperature = 1.3f;
  check_distribution(p, logits);
  p.top_p = 1.0f;  // min-p alone
  p.min_p = 0.3f;
  p.temperature = 1.0f;
  check_distribution(p, logits);
  p.min_p = 0.0f;  // plain softmax
  p.temperature = 2.0f;
  check_distribution(p, logits);
}

TEST(SamplerSteps, PenaltiesMatchHandComputedValues) {
  // repeat 2, frequency 0.5, presence 0.25; window holds token 0 twice, 1 and 2 once.
  std::vector<float> l = {2.0f, -1.0f, 0.5f, 3.0f};
  std::vector<int32_t> scratch;
  const std::vector<int32_t> window = {0, 1, 0, 2, 77 /* out of range: ignored */};
  apply_penalties(l.data(), 4, window, 2.0f, 0.5f, 0.25f, scratch);
  EXPECT_FLOAT_EQ(l[0], 2.0f / 2 - (2 * 0.5f + 0.25f));  // -0.25
  EXPECT_FLOAT_EQ(l[1], -1.0f * 2 - (0.5f + 0.25f));     // -2.75
  EXPECT_FLOAT_EQ(l[2], 0.5f / 2 - (0.5f + 0.25f));      // -0.5
  EXPECT_FLOAT_EQ(l[3], 3.0f);
}

TEST(Sampler, PenaltiesChangeTheChoice) {
  SamplingParams p = greedy_params();
  p.repeat_penalty = 2.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  Sampler s(p, 4);
  const float logits[] = {2.0f, -1.0f, 0.5f, 1.5f};
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);  // 0 -> 2/2 - 0.75 = 0.25 < 1.5
  EXPECT_EQ(s.sample(logits), 3);
  s.accept(3);  // 3 -> 1.5/2 - 0.75 = 0; 0 is 0.25; 2 is 0.5 (unpenalised)
  EXPECT_EQ(s.sample(logits), 2);
}

TEST(Sampler, RepeatLastNWindowIsRespected) {
  const float logits[] = {5.0f, 4.9f, 0.0f, 0.0f};
  for (int last_n : {0, 2, 3, -1}) {
    SamplingParams p = greedy_params();
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = last_n;
    Sampler s(p, 4, /*n_ctx=*/8);
    s.accept_prompt(std::vector<int32_t>{0, 3, 3});
    // Token 0 is third from the end: penalised only by windows of 3 or more (-1 = n_ctx = 8).
    const bool penalised = last_n == 3 || last_n == -1;
    EXPECT_EQ(s.sample(logits), penalised ? 1 : 0) << "repeat_last_n " << last_n;
  }
  // A long history keeps exactly the last N tokens in view.
  SamplingParams p = greedy_params();
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 4;
  Sampler s(p, 4);
  s.accept(0);
  for (int i = 0; i < 1000; ++i) s.accept(3);
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 1);
}

// Allows only even token ids; counts the tokens it was given.
class EvenOnly : public TokenFilter {
 public:
  void allowed(std::vector<uint8_t>& mask) override {
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = allow_nothing ? 0 : (i % 2 == 0);
  }
  bool allows(int32_t t) const override { return !allow_nothing && t % 2 == 0; }
  bool accept(int32_t t) override {
    accepted.push_back(t);
    return allows(t);
  }
  bool complete() const override { return true; }
  std::string bytes_to_complete() const override { return ""; }
  std::vector<int32_t> accepted;
  bool allow_nothing = false;
};

TEST(Sampler, FilterRestrictsChoices) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 3;
  p.seed = 5;
  Sampler s(p, 200);
  auto filter = std::make_unique<EvenOnly>();
  EvenOnly* f = filter.get();
  s.accept_prompt(std::vector<int32_t>{1, 3});
  s.set_token_filter(std::move(filter));
  EXPECT_TRUE(f->accepted.empty());  // prompt tokens never reach the filter
  for (int i = 0; i < 500; ++i) {
    auto logits = random_logits(200, i);
    const int32_t t = s.sample(logits.data());
    ASSERT_EQ(t % 2, 0);
    EXPECT_TRUE(s.accept(t));
  }
  EXPECT_EQ(f->accepted.size(), 500u);
  EXPECT_FALSE(s.accept(3));  // the filter's verdict comes back

  Sampler g(greedy_params(), 4);
  g.set_token_filter(std::make_unique<EvenOnly>());
  const float logits[] = {1.0f, 9.0f, 2.0f, 8.0f};
  EXPECT_EQ(g.sample(logits), 2);

  auto none = std::make_unique<EvenOnly>();
  none->allow_nothing = true;
  s.set_token_filter(std::move(none));
  auto l = random_logits(200, 1);
  EXPECT_EQ(s.sample(l.data()), Sampler::kNoToken);
}

TEST(SamplerSteps, TopPKeepsSmallestPrefixReachingP) {
  std::vector<TokenData> d;
  const float probs[] = {0.1f, 0.5f, 0.1f, 0.3f};
  for (int i = 0; i < 4; ++i) d.push_back({i, std::log(probs[i]), 0});
  auto kept = [&](float p) {
    std::vector<TokenData> copy = d;
    Candidates c{copy.data(), copy.size(), false};
    top_p(c, p);
    std::vector<int32_t> ids;
    for (size_t i = 0; i < c.size; ++i) ids.push_back(c.data[i].id);
    return ids;
  };
  EXPECT_EQ(kept(0.5f), (std::vector<int32_t>{1}));
  EXPECT_EQ(kept(0.75f), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(kept(0.85f), (std::vector<int32_t>{1, 3, 0}));  // equal probabilities: lower id first
  EXPECT_EQ(kept(0.0f), (std::vector<int32_t>{1}));
  EXPECT_EQ(kept(1.0f).size(), 4u);
}

TEST(SamplerSteps, TopPOnLargeUnsortedSetsWidensTheRanking) {
  // 4096 equal logits (probabilities exactly 2^-12): the nucleus needs far more than the first
  // 256 ranked candidates.
  std::vector<TokenData> d;
  for (int i = 0; i < 4096; ++i) d.push_back({i, 0.0f, 0});
  Candidates c{d.data(), d.size(), false};
  top_p(c, 0.5f);
  EXPECT_EQ(c.size, 2048u);
  for (size_t i = 0; i < c.size; ++i) EXPECT_EQ(c.data[i].id, static_cast<int32_t>(i));
}

TEST(SamplerSteps, MinPAndTopKAndTypical) {
  std::vector<TokenData> d;
  const float probs[] = {0.05f, 0.5f, 0.2f, 0.25f};
  for (int i = 0; i < 4; ++i) d.push_back({i, std::log(probs[i]), 0});
  {
    auto copy = d;
    Candidates c{copy.data(), copy.size(), false};
    min_p(c, 0.45f);  // keeps p >= 0.225
    ASSERT_EQ(c.size, 2u);
    EXPECT_EQ(c.data[0].id, 1);
    EXPECT_EQ(c.data[1].id, 3);
  }
  {
    auto copy = d;
    Candidates c{copy.data(), copy.size(), false};
    top_k(c, 2);
    ASSERT_EQ(c.size, 2u);
    EXPECT_TRUE(c.sorted);
    EXPECT_EQ(c.data[0].id, 1);
    EXPECT_EQ(c.data[1].id, 3);
  }
  {
    auto copy = d;
    Candidates c{copy.data(), copy.size(), false};
    StepScratch scratch;
    typical(c, 1.0f, scratch);
    EXPECT_EQ(c.size, 4u);
    typical(c, 0.3f, scratch);
    // Entropy 1.165 nats; |surprisal - H|: 0.472 (p 0.5), 0.444 (p 0.2), 0.221 (p 0.25),
    // 1.831 (p 0.05). Ranked 3, 2, 1, 0: mass 0.25, then 0.45 > 0.3.
    ASSERT_EQ(c.size, 2u);
    EXPECT_EQ(c.data[0].id, 3);
    EXPECT_EQ(c.data[1].id, 2);
  }
}

TEST(SamplerSteps, TopKOnLargeVocabularyMatchesFullSort) {
  auto logits = random_logits(50000, 9);
  for (int i = 0; i < 100; ++i) logits[i * 13] = 7.0f;  // many ties near the top
  std::vector<TokenData> d;
  for (int i = 0; i < 50000; ++i) d.push_back({i, logits[i], 0});
  auto sorted = d;
  std::sort(sorted.begin(), sorted.end(), ranks_before);
  Candidates c{d.data(), d.size(), false};
  top_k(c, 40);
  ASSERT_EQ(c.size, 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(c.data[i].id, sorted[i].id);
}

}  // namespace
}  // namespace corral::sampling
