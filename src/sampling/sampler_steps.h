// The steps of the sampler chain, each a plain function over a candidate list so it can be
// tested on its own. Sampler (sampler.h) runs them in llama.cpp's default order, the one
// Ollama's llama.cpp runner uses: penalties -> top-k -> typical -> top-p -> min-p ->
// temperature -> draw. top-p, min-p and typical therefore see the untempered distribution.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace corral::sampling {

struct TokenData {
  int32_t id;
  float logit;
  float p;  // probability, valid after softmax()
};

// The working set: steps shrink it to a prefix of data.
struct Candidates {
  TokenData* data = nullptr;
  size_t size = 0;
  bool sorted = false;  // by logit descending, equal logits by id ascending
};

// Scratch buffers reused across calls so a step allocates only the first time.
struct StepScratch {
  std::vector<float> floats;
  std::vector<TokenData> tokens;
  std::vector<int32_t> ints;
};

// The total order used wherever candidates are ranked: higher logit first, lower id on ties,
// so every ranking (and therefore every seeded draw) is reproducible.
inline bool ranks_before(const TokenData& a, const TokenData& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// llama.cpp's repetition penalties over logits[n_vocab] indexed by token id: each distinct
// token t seen c times in `window` gets l <= 0 ? l * repeat : l / repeat, then
// l -= c * frequency + presence. Token ids outside [0, n_vocab) are ignored.
void apply_penalties(float* logits, int n_vocab, std::span<const int32_t> window, float repeat, float frequency,
                     float presence, std::vector<int32_t>& scratch);

// Index of the highest logit among tokens with mask[i] != 0 (all tokens when mask is null);
// ties go to the lowest id; -1 when nothing is allowed.
int32_t argmax(const float* logits, int n, const uint8_t* mask);

// Fills p with softmax(logit) over the candidates (uniform if every logit is -inf).
void softmax(Candidates& c);
// Keeps the k highest-ranked candidates, sorted. k <= 0 or k >= size: no-op.
void top_k(Candidates& c, int k);
// Locally typical sampling (Meister et al. 2022), as llama.cpp: keeps the candidates whose
// surprisal is closest to the entropy until their mass exceeds p. p >= 1: no-op.
void typical(Candidates& c, float p, StepScratch& scratch);
// Nucleus: keeps the smallest prefix of the ranking whose mass reaches p (at least one).
// p >= 1: no-op.
void top_p(Candidates& c, float p);
// Keeps candidates with probability >= p * max probability. p <= 0: no-op.
void min_p(Candidates& c, float p);
// Divides logits by t (t > 0), after shifting them so the maximum is 0.
void temperature(Candidates& c, float t);
// Index (into c.data) drawn from softmax(logits); u is uniform in [0, 1). Overwrites p with
// unnormalised weights.
size_t draw(Candidates& c, double u);

}  // namespace corral::sampling
