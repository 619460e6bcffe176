// Scalar reference kernels for the 8-bit formats: Q8_0 (weights and activations), Q8_1 and
// Q8_K (activations only). The quantizers reproduce ggml's quantize_row_q8_0_ref,
// quantize_row_q8_1_ref and quantize_row_q8_K_ref bit for bit, so activations match
// llama.cpp's reference path.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/generic/families.h"
#include "kernels/generic/gemm_by_rows.h"
#include "kernels/generic/rounding.h"
#include "tensor/blocks.h"

namespace corral::kernels {
namespace {

// Shared by Q8_0 and Q8_1: d = amax / 127 so the largest magnitude maps to +-127 (symmetric,
// -128 unused); codes are roundf(x * (1 / d)), halves away from zero, with the f32 d (the block
// stores it as f16). Returns d.
float quantize_block_of_32(const float* x, int8_t* qs /*[32]*/) {
  float amax = 0;
  for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK8_0; ++j) qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  return d;
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    blocks[b].d = f32_to_fp16(quantize_block_of_32(src + b * kQK8_0, blocks[b].qs));
  }
}

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    for (int j = 0; j < kQK8_0; ++j) dst[b * kQK8_0 + j] = static_cast<float>(blocks[b].qs[j]) * d;
  }
}

// As ggml_vec_dot_q8_0_q8_0: exact integer block sum * (d_w * d_x).
float dot_q8_0_q8_0(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ8_0*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kQK8_0; ++b) {
    int sumi = 0;
    for (int j = 0; j < kQK8_0; ++j) sumi += wb[b].qs[j] * xb[b].qs[j];
    sum += static_cast<float>(sumi) * (fp16_to_f32(wb[b].d) * fp16_to_f32(xb[b].d));
  }
  return sum;
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(dst);
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    const float d = quantize_block_of_32(src + b * kQK8_1, blocks[b].qs);
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) sum += blocks[b].qs[j];
    blocks[b].d = f32_to_fp16(d);
    // s = (float)sum(q) * d with the f32 d, rounded once to f16 (ggml does the same).
    blocks[b].s = f32_to_fp16(static_cast<float>(sum) * d);
  }
}

void dequantize_q8_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(src);
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    for (int j = 0; j < kQK8_1; ++j) dst[b * kQK8_1 + j] = static_cast<float>(blocks[b].qs[j]) * d;
  }
}

// Q8_K: one f32 scale per 256 elements. The signed value of largest magnitude maps to -127
// (iscale = -127 / max: ggml moved from -128 to keep its IQ2 AVX dots simple; we follow for
// identical codes), rounding to nearest even. The cap at 127 is ggml's guard against rounding
// just past the end. bsums hold the sum of each 16 codes so K-quant dots can apply their mins
// without touching the codes.
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& y = blocks[b];
    float amax = 0, max = 0;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0) {
      // ggml leaves bsums unset here; zeros are what they would sum to.
      std::memset(&y, 0, sizeof y);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) y.qs[j] = std::min(127, nearest_int(iscale * x[j]));
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += y.qs[g * 16 + j];
      y.bsums[g] = static_cast<int16_t>(sum);
    }
    y.d = 1 / iscale;
  }
}

void dequantize_q8_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float d = blocks[b].d;
    for (int j = 0; j < kQK_K; ++j) dst[b * kQK_K + j] = d * static_cast<float>(blocks[b].qs[j]);
  }
}

}  // namespace

void register_generic_q8(KernelTable& t) {
  constexpr auto q8_0 = static_cast<uint32_t>(DType::kQ8_0);
  constexpr auto q8_1 = static_cast<uint32_t>(DType::kQ8_1);
  constexpr auto q8_k = static_cast<uint32_t>(DType::kQ8_K);
  t.quantize_row[q8_0] = quantize_q8_0;
  t.dequantize_row[q8_0] = dequantize_q8_0;
  t.gemm[q8_0] = gemm_by_rows<dot_q8_0_q8_0>;
  t.quantize_row[q8_1] = quantize_q8_1;
  t.dequantize_row[q8_1] = dequantize_q8_1;
  t.quantize_row[q8_k] = quantize_q8_k;
  t.dequantize_row[q8_k] = dequantize_q8_k;
}

}  // namespace corral::kernels
