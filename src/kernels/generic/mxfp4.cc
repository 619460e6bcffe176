// Scalar reference kernels for MXFP4 (OCP microscaling FP4, gpt-oss's expert weights): blocks
// of 32 E2M1 codes sharing one power-of-two scale, x = kMXFP4Values[code] * 2^(e - 128), with
// Q8_0 activations as llama.cpp uses (ggml_vec_dot_mxfp4_q8_0). The quantizer reproduces ggml's
// quantize_row_mxfp4_ref.
#include <cmath>

#include "base/fp16.h"
#include "kernels/generic/families.h"
#include "kernels/generic/gemm_by_rows.h"
#include "kernels/generic/legacy_layout.h"
#include "kernels/generic/lut4_layout.h"
#include "tensor/blocks.h"

namespace corral::kernels {
namespace {

constexpr int kBlock = 32;

// Index of the table value v with the smallest |v * d - x|, the first on a tie (code 0 before
// code 8 for the two zeros): ggml's best_index_mxfp4.
int best_index(float x, float d) {
  int best = 0;
  float best_err = std::fabs(kMXFP4Values[0] * d - x);
  for (int i = 1; i < 16; ++i) {
    const float err = std::fabs(kMXFP4Values[i] * d - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return best;
}

// The exponent puts the largest magnitude in [8, 16) units of the scale, i.e. at or above the
// table's 8 (E2M1 4.0): e = floor(log2(amax)) - 2 + 127, as ggml. Values past 12 units clip to
// 12 (E2M1's largest, 6.0), so up to a quarter of the largest value can be lost; that is the
// reference's choice and files made by llama-quantize carry it. ggml converts the float to
// uint8 unchecked; it is clamped here to [0, 254] so tiny and huge blocks have defined codes
// (equal to ggml's wherever ggml's conversion is defined).
void quantize_mxfp4(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockMXFP4*>(dst);
  for (int64_t b = 0; b < n / kBlock; ++b) {
    const float* x = src + b * kBlock;
    float amax = 0;
    for (int j = 0; j < kBlock; ++j) {
      if (amax < std::fabs(x[j])) amax = std::fabs(x[j]);
    }
    float exponent = amax > 0 ? std::floor(std::log2(amax)) - 2 + 127 : 0;
    exponent = exponent < 0 ? 0 : exponent > 254 ? 254 : exponent;
    const auto e = static_cast<uint8_t>(exponent);
    const float d = e8m0_to_f32_half(e);
    uint8_t codes[kBlock];
    for (int j = 0; j < kBlock; ++j) codes[j] = static_cast<uint8_t>(best_index(x[j], d));
    blocks[b].e = e;
    pack_low_nibbles(codes, blocks[b].qs);
  }
}

void dequantize_mxfp4(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockMXFP4*>(src);
  for (int64_t b = 0; b < n / kBlock; ++b) {
    const float d = e8m0_to_f32_half(blocks[b].e);
    for (int j = 0; j < kBlock; ++j) dst[b * kBlock + j] = kMXFP4Values[low_nibble_of(blocks[b].qs, j)] * d;
  }
}

// As ggml_vec_dot_mxfp4_q8_0: exact integer sum per block, then sum * (d_x * 2^(e - 128)).
float dot_mxfp4_q8_0(int64_t k, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockMXFP4*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t b = 0; b < k / kBlock; ++b) {
    int sumi = 0;
    for (int j = 0; j < kBlock; ++j) sumi += kMXFP4Values[low_nibble_of(wb[b].qs, j)] * xb[b].qs[j];
    sum += static_cast<float>(sumi) * (e8m0_to_f32_half(wb[b].e) * fp16_to_f32(xb[b].d));
  }
  return sum;
}

}  // namespace

void register_generic_mxfp4(KernelTable& t) {
  constexpr auto mx = static_cast<uint32_t>(DType::kMXFP4);
  t.quantize_row[mx] = quantize_mxfp4;
  t.dequantize_row[mx] = dequantize_mxfp4;
  t.gemm[mx] = gemm_by_rows<dot_mxfp4_q8_0>;
}

}  // namespace corral::kernels
