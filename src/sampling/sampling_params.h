// The sampling options of a request, with Ollama's names and defaults (Ollama's api.Options
// and docs/modelfile.md), and their validation.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace corral::sampling {

struct SamplingParams {
  float temperature = 0.8f;        // <= 0: greedy (argmax, ties to the lowest id)
  int top_k = 40;                  // <= 0: disabled
  float top_p = 0.9f;              // >= 1: disabled
  float min_p = 0.0f;              // <= 0: disabled
  float typical_p = 1.0f;          // >= 1: disabled
  float repeat_penalty = 1.1f;     // 1: disabled
  int repeat_last_n = 64;          // tokens of history the penalties look at; 0: off, -1: num_ctx
  float presence_penalty = 0.0f;   // subtracted once from every token seen in the window
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the window
  int64_t seed = -1;               // -1: a random seed per sequence
};

// Rejects values no sampler can make sense of (NaN or infinite floats, repeat_last_n < -1,
// repeat_penalty <= 0). Out-of-range but meaningful values pass and are interpreted the way
// llama.cpp does (top_k <= 0 and top_p >= 1 disable the step, temperature < 0 is greedy).
Status validate(const SamplingParams& params);

}  // namespace corral::sampling
