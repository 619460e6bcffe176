// Scalar steps every ISA level's attention kernel shares: the query rounding over a quantized
// (Q8_0 / Q4_0) K cache (one function, so the codes its q.k products see agree bit for bit),
// the output's normalisation with attention sinks, and whether a block lies after the last.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/generic/rounding.h"

namespace corral::kernels {

// Elements per rounded query block: the K types' block (kQK8_0 = kQK4_0).
constexpr int64_t kAttnQueryBlock = 32;

// Rounds 32 query elements to q8 as llama.cpp's flash attention rounds q for a Q8_0 K (its
// vec_dot type): codes = nearest_int(x * (127 / max|x|)) in [-127, 127] (ties to even, what
// cvtps2dq gives SIMD levels), returned scale d = max|x| / 127 (x ~ d * codes). Unlike
// ggml, d stays f32 (not rounded to f16): the score sees q's 8-bit rounding only, not a 2^-11
// error of the whole block's scale on top. A block whose max|x| is below 1e-30 (127 / max|x|
// would overflow near 3.7e-37; such a block adds nothing a float score can hold) gives d = 0
// and zero codes.
inline float round_query_block_q8(const float* x, int8_t* codes) {
  float amax = 0.0f;
  for (int64_t i = 0; i < kAttnQueryBlock; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  if (!(amax >= 1e-30f)) {  // also NaN
    for (int64_t i = 0; i < kAttnQueryBlock; ++i) codes[i] = 0;
    return 0.0f;
  }
  const float id = 127.0f / amax;
  for (int64_t i = 0; i < kAttnQueryBlock; ++i) codes[i] = static_cast<int8_t>(nearest_int(x[i] * id));
  return amax / 127.0f;
}

// Whether block `next` of a call's K and V both lie right after block next - 1 (blocks of
// block_bytes). The KV pool keeps a sequence's consecutive blocks side by side per layer and
// head (model/kv_storage.h, extents), where the hardware prefetcher streams them; the SIMD
// kernels fetch an F32 / F16 block ahead only where this is false (see the AVX-512 kernel).
inline bool next_block_follows(const void* const* k, const void* const* v, int64_t next, size_t block_bytes) {
  const auto follows = [&](const void* const* blocks) {
    return static_cast<const char*>(blocks[next]) == static_cast<const char*>(blocks[next - 1]) + block_bytes;
  };
  return follows(k) && follows(v);
}

// The factor that turns head h's accumulated sum_j p_j v_j (p_j = exp(score_j - m) against its
// running max m, l = sum_j p_j) into its output: 1 / l, or with attention sinks (sinks[h]: a
// logit that joins the softmax's normalisation only) exp(m - m') / (l exp(m - m') + exp(sink -
// m')), m' = max(m, sink).
inline float output_factor(float m, float l, const float* sinks, int64_t h) {
  float c = 1.0f;
  if (sinks) {
    const float ms = std::fmax(m, sinks[h]);
    c = std::exp(m - ms);
    l = l * c + std::exp(sinks[h] - ms);
  }
  return c / l;
}

}  // namespace corral::kernels
