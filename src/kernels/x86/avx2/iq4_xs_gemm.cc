// AVX2 gemm for IQ4_XS weights (super-blocks of 256: 8 sub-blocks of 32 with 6-bit scales,
// 4-bit codes into IQ4_NL's non-linear table) with Q8_K activations. (IQ4_NL and MXFP4, blocks
// of 32 with one scale, go through the 32-element quants' kernel in quant_gemm.cc.)
//
// One weight row meets up to kGroup activation rows at a time, in element order. A sub-block's
// codes become its signed 8-bit values with one vpshufb on the 16-entry table (both nibble
// halves side by side, so the values line up with the activations' element order), once per
// sub-block and group. vpmaddubsw needs one unsigned operand, so the sign trick: |w| times x
// with w's sign (vpsignb). That is exact unless x = -128, which the Q8_K quantizer never emits
// (it maps a super-block's largest magnitude to -127). Pair sums fit 16 bits (2 * 127 * 127 <
// 2^15); vpmaddwd widens them to 8 dword lanes multiplying by the sub-block scale on the way
// (2 * 127 * 127 * 32 < 2^31; a super-block's 8 sub-blocks sum to < 2^27 per lane).
//
// Each lane accumulates its share of the dot in f32, one fma per super-block (d_w * d_x), and
// the 8 lanes are added in a fixed order at the end: the same operations for a pair of rows
// whatever else is in the call, so each output depends only on its two rows (matmul.h), and
// differs from the scalar reference only by f32 rounding.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/api.h"
#include "kernels/generic/lut4_layout.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

// Loops over register arrays carry `#pragma GCC unroll`: at -O2 GCC leaves short fixed-count
// loops rolled, which keeps the arrays in memory instead of registers.

constexpr int kGroup = 4;  // activation rows per pass: 4 accumulators and 4 integer sums, the
                           // values, their magnitudes and temporaries fit 16 ymm

// The table in both 128-bit lanes, as vpshufb indexes within a lane.
__m256i table_of(const int8_t* values) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(values)));
}

// The 32 values of a sub-block (16 bytes of codes): low nibbles (elements 0-15) in the low lane,
// high nibbles (16-31) in the high lane.
[[gnu::always_inline]] inline __m256i decode(const uint8_t* qs, __m256i table) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i nibbles = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
  return _mm256_shuffle_epi8(table, nibbles);
}

// Pair sums (16 bits) of |w| * x with w's sign, for 32 activation codes at x.
[[gnu::always_inline]] inline __m256i pairs(__m256i magnitude, __m256i w, const int8_t* x) {
  const __m256i signed_x = _mm256_sign_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)), w);
  return _mm256_maddubs_epi16(magnitude, signed_x);
}

// The 8 lanes' sum, always in the same order.
inline float sum_lanes(__m256 v) {
  const __m128 four = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_movehdup_ps(two)));
}

template <int G>
void super_blocks_times_group(int64_t nb, const BlockIQ4_XS* w, const uint8_t* x, size_t x_stride, float* y,
                              int64_t ldy) {
  const __m256i table = table_of(kIQ4NLValues);
  __m256 acc[G];
#pragma GCC unroll 4
  for (int c = 0; c < G; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockIQ4_XS& blk = w[b];
    __m256i total[G];
#pragma GCC unroll 4
    for (int c = 0; c < G; ++c) total[c] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int s = 0; s < kIQ4XSSubBlocks; ++s) {
      const __m256i values = decode(blk.qs + 16 * s, table);
      const __m256i magnitude = _mm256_sign_epi8(values, values);
      const __m256i scale = _mm256_set1_epi16(static_cast<int16_t>(iq4_xs_scale(blk, s)));
#pragma GCC unroll 4
      for (int c = 0; c < G; ++c) {
        const BlockQ8_K& xb = reinterpret_cast<const BlockQ8_K*>(x + c * x_stride)[b];
        total[c] = _mm256_add_epi32(total[c], _mm256_madd_epi16(pairs(magnitude, values, xb.qs + 32 * s), scale));
      }
    }
    const float dw = _cvtsh_ss(blk.d);
#pragma GCC unroll 4
    for (int c = 0; c < G; ++c) {
      const float dx = reinterpret_cast<const BlockQ8_K*>(x + c * x_stride)[b].d;
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total[c]), _mm256_set1_ps(dw * dx), acc[c]);
    }
  }
#pragma GCC unroll 4
  for (int c = 0; c < G; ++c) y[c * ldy] = sum_lanes(acc[c]);
}

void super_blocks_times_rows(int g, int64_t nb, const BlockIQ4_XS* w, const uint8_t* x, size_t x_stride, float* y,
                             int64_t ldy) {
  switch (g) {
    case 1: return super_blocks_times_group<1>(nb, w, x, x_stride, y, ldy);
    case 2: return super_blocks_times_group<2>(nb, w, x, x_stride, y, ldy);
    case 3: return super_blocks_times_group<3>(nb, w, x, x_stride, y, ldy);
    default: return super_blocks_times_group<4>(nb, w, x, x_stride, y, ldy);
  }
}

// Weight rows outermost: a row is read from memory once and stays in L1 while every group of
// activation rows passes it.
void gemm(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n, float* y,
          int64_t ldy) {
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* x_bytes = static_cast<const uint8_t*>(x);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j0 = 0; j0 < n; j0 += kGroup) {
      const int g = static_cast<int>(std::min<int64_t>(kGroup, n - j0));
      super_blocks_times_rows(g, k / kQK_K, reinterpret_cast<const BlockIQ4_XS*>(w_bytes + i * w_stride),
                              x_bytes + j0 * x_stride, x_stride, y + j0 * ldy + i, ldy);
    }
  }
}

}  // namespace

void register_avx2_iq4_xs(KernelTable& t) { t.gemm[static_cast<uint32_t>(DType::kIQ4_XS)] = gemm; }

}  // namespace corral::kernels

#pragma GCC pop_options
