// AVX-512 VNNI gemm for IQ4_XS weights (super-blocks of 256: 8 sub-blocks of 32 with 6-bit
// scales, 4-bit codes into IQ4_NL's non-linear table) with Q8_K activations. (IQ4_NL and MXFP4,
// blocks of 32 with one scale, go through the 32-element quants' kernel in quant_gemm.cc.)
//
// One weight row meets up to kGroup activation rows at a time, 64 elements (two sub-blocks)
// per zmm. A pair's codes become signed 8-bit values with one vpshufb on the 16-entry table,
// once per pair and group. vpdpbusd multiplies unsigned by signed bytes, so the activations are
// the unsigned side, offset by 128 (a sign bit flip, done once per call when they are copied
// side by side, `prepare_q8_k`):
//   sum(x * w) = sum((x + 128) * w) - 128 * sum(w),
// and -128 * sum(w) of each dword lane is computed with the weights and seeds the integer sum.
// Exact for every int8 x (products <= 255 * 127, four per lane). Each sub-block's lanes are
// then multiplied by its scale (vpmulld; |lane| <= 4 * 128 * 127 * 32) and the 4 pairs of a
// super-block added as integers.
//
// Each lane accumulates its share of the dot in f32, one fma per super-block (d_w * d_x), and
// the 16 lanes are added in a fixed order at the end: the same operations for a pair of rows
// whatever else is in the call, so each output depends only on its two rows (matmul.h), and
// differs from the scalar reference only by f32 rounding.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/api.h"
#include "kernels/generic/lut4_layout.h"
#include "kernels/x86/x86_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")
// GCC 12's intrinsics pass `_mm512_undefined_*()` (a self-initialised variable) as the unused
// merge source of unmasked operations, which -W(maybe-)uninitialized reports once inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace corral::kernels {
namespace {

// Loops over register arrays carry `#pragma GCC unroll`: at -O2 GCC leaves short fixed-count
// loops rolled, which keeps the arrays in memory instead of registers.

using x86::Slot;
using x86::ThreadScratch;

constexpr int kGroup = 8;  // activation rows per pass: 8 accumulators next to the 12 vectors of
                           // values, seeds and scales fit the 32 zmm registers

// One Q8_K super-block of one activation row, prepared.
struct alignas(64) XSuper {
  uint8_t qs[256];  // codes + 128
  float d;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Prepared activations are laid out [group of kGroup rows][super-block][row in group]: the
// rows a pass reads together sit side by side. (Row-major, rows nb * 320 bytes apart would
// alias in L1 for many k: a 32-element variant of this kernel measured 1.5x slower at n = 64.)
int64_t prepared_index(int64_t row, int64_t unit, int64_t units) {
  return (row / kGroup * units + unit) * kGroup + row % kGroup;
}

// n rows of nb Q8_K super-blocks into XSupers.
void prepare_q8_k(const uint8_t* x, size_t x_stride, int64_t n, int64_t nb, XSuper* out) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t j = 0; j < n; ++j) {
    const auto* row = reinterpret_cast<const BlockQ8_K*>(x + j * x_stride);
    for (int64_t b = 0; b < nb; ++b) {
      XSuper& o = out[prepared_index(j, b, nb)];
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        const __m512i v = _mm512_loadu_si512(row[b].qs + 64 * q);
        _mm512_store_si512(o.qs + 64 * q, _mm512_xor_si512(v, flip));
      }
      o.d = row[b].d;
    }
  }
}

// The table in all four 128-bit lanes, as vpshufb indexes within a lane.
__m512i table_of(const int8_t* values) {
  return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(values)));
}

// The 64 values of two sub-blocks (16 bytes of codes each, `first` then `second`) in element
// order: lanes 0-1 the low and high nibbles of `first`, lanes 2-3 those of `second`.
[[gnu::always_inline]] inline __m512i decode_pair(const uint8_t* first, const uint8_t* second, __m512i table) {
  __m512i q = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first)));
  q = _mm512_mask_broadcast_i32x4(q, 0xFF00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(second)));
  // Lanes 1 and 3 shift right by 4, bringing each byte's high nibble down; the mask keeps it.
  q = _mm512_srlv_epi64(q, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
  return _mm512_shuffle_epi8(table, _mm512_and_si512(q, _mm512_set1_epi8(0x0F)));
}

// -128 * (sum of the 4 values) of each dword lane: the seed that undoes the activations' offset.
[[gnu::always_inline]] inline __m512i offset_seed(__m512i values) {
  const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(static_cast<char>(0x80)), values);
  return _mm512_sub_epi32(_mm512_setzero_si512(), sums);
}

template <int G>
void super_blocks_times_group(int64_t nb, const BlockIQ4_XS* w, const XSuper* x, float* y, int64_t ldy) {
  const __m512i table = table_of(kIQ4NLValues);
  __m512 acc[G];
#pragma GCC unroll 8
  for (int c = 0; c < G; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockIQ4_XS& blk = w[b];
    __m512i values[4], seed[4], scale[4];  // [pair of sub-blocks]
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      values[p] = decode_pair(blk.qs + 32 * p, blk.qs + 32 * p + 16, table);
      seed[p] = offset_seed(values[p]);
      scale[p] = _mm512_inserti32x8(_mm512_set1_epi32(iq4_xs_scale(blk, 2 * p)),
                                    _mm256_set1_epi32(iq4_xs_scale(blk, 2 * p + 1)), 1);
    }
    const float dw = _cvtsh_ss(blk.d);
#pragma GCC unroll 8
    for (int c = 0; c < G; ++c) {
      const XSuper& xs = x[b * kGroup + c];
      __m512i total = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        const __m512i sums = _mm512_dpbusd_epi32(seed[p], _mm512_load_si512(xs.qs + 64 * p), values[p]);
        total = _mm512_add_epi32(total, _mm512_mullo_epi32(sums, scale[p]));
      }
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_set1_ps(dw * xs.d), acc[c]);
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < G; ++c) y[c * ldy] = _mm512_reduce_add_ps(acc[c]);
}

void super_blocks_times_rows(int g, int64_t nb, const BlockIQ4_XS* w, const XSuper* x, float* y, int64_t ldy) {
  switch (g) {
    case 1: return super_blocks_times_group<1>(nb, w, x, y, ldy);
    case 2: return super_blocks_times_group<2>(nb, w, x, y, ldy);
    case 3: return super_blocks_times_group<3>(nb, w, x, y, ldy);
    case 4: return super_blocks_times_group<4>(nb, w, x, y, ldy);
    case 5: return super_blocks_times_group<5>(nb, w, x, y, ldy);
    case 6: return super_blocks_times_group<6>(nb, w, x, y, ldy);
    case 7: return super_blocks_times_group<7>(nb, w, x, y, ldy);
    default: return super_blocks_times_group<8>(nb, w, x, y, ldy);
  }
}

// The activations are prepared once per call; then weight rows outermost: a row is read from
// memory once and stays in L1 while every group of activation rows passes it.
void gemm_iq4_xs(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n,
                 float* y, int64_t ldy) {
  if (m <= 0 || n <= 0) return;
  const int64_t nb = k / kQK_K;
  const int64_t groups = ceil_div(n, kGroup);
  auto* xs = static_cast<XSuper*>(ThreadScratch::get(Slot::kActivations, groups * kGroup * nb * sizeof(XSuper)));
  prepare_q8_k(static_cast<const uint8_t*>(x), x_stride, n, nb, xs);
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  for (int64_t i = 0; i < m; ++i) {
    const auto* row = reinterpret_cast<const BlockIQ4_XS*>(w_bytes + i * w_stride);
    for (int64_t j0 = 0; j0 < n; j0 += kGroup) {
      const int g = static_cast<int>(std::min<int64_t>(kGroup, n - j0));
      super_blocks_times_rows(g, nb, row, xs + j0 * nb, y + j0 * ldy + i, ldy);
    }
  }
}

}  // namespace

void register_avx512_iq4_xs(KernelTable& t) { t.gemm[static_cast<uint32_t>(DType::kIQ4_XS)] = gemm_iq4_xs; }

}  // namespace corral::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options
