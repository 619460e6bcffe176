// AVX-512 VNNI gemm for the 4-bit lookup-table formats: IQ4_NL and MXFP4 weights with Q8_0
// activations, IQ4_XS weights with Q8_K activations.
//
// One weight row meets up to kGroup activation rows at a time, 64 elements per zmm: two blocks
// (IQ4_NL, MXFP4) or two sub-blocks (IQ4_XS) side by side. A pair's codes become signed 8-bit
// values with one vpshufb on the 16-entry table, once per pair and group. vpdpbusd multiplies
// unsigned by signed bytes, so the activations are the unsigned side, offset by 128 (a sign
// bit flip, done once per call when they are copied side by side, `prepare_*`):
//   sum(x * w) = sum((x + 128) * w) - 128 * sum(w),
// and -128 * sum(w) of each dword lane is computed with the weights and seeds the integer sum.
// Exact for every int8 x (products <= 255 * 127, four per lane). IQ4_XS then multiplies each
// sub-block's lanes by its scale (vpmulld; |lane| <= 4 * 128 * 127 * 32 per sub-block) and adds
// the 4 pairs of a super-block as integers.
//
// Each lane accumulates its share of the dot in f32, one fma per pair of blocks (per-lane scale
// d_w * d_x of its block) or per super-block (d_w * d_x), and the 16 lanes are added in a fixed
// order at the end: the same operations for a pair of rows whatever else is in the call, so each
// output depends only on its two rows (matmul.h) and differs from the scalar reference only by
// f32 rounding.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

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

constexpr int kGroup = 8;  // activation rows per pass: 8 accumulators next to IQ4_XS's 12
                           // vectors of values, seeds and scales fit the 32 zmm registers

// Two Q8_0 blocks of one activation row, prepared.
struct alignas(64) XPair {
  uint8_t qs[64];  // [block][element] codes + 128
  float d[16];     // [block][8]: each block's scale, once per dword lane of its half
};

// One Q8_K super-block of one activation row, prepared.
struct alignas(64) XSuper {
  uint8_t qs[256];  // codes + 128
  float d;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Prepared activations are laid out [group of kGroup rows][pair or super-block][row in group]:
// the rows a pass reads together sit side by side. (Row-major, rows k / 64 * 128 bytes apart
// would often be 4 KiB apart and alias in L1: measured 2-3x slower at n = 64.)
int64_t prepared_index(int64_t row, int64_t unit, int64_t units) {
  return (row / kGroup * units + unit) * kGroup + row % kGroup;
}

// n rows of nb Q8_0 blocks into XPairs; an odd last block pairs with a zero scale (see
// decode_pair).
void prepare_q8_0(const uint8_t* x, size_t x_stride, int64_t n, int64_t nb, XPair* out) {
  const int64_t pairs = ceil_div(nb, 2);
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t j = 0; j < n; ++j) {
    const auto* row = reinterpret_cast<const BlockQ8_0*>(x + j * x_stride);
    for (int64_t p = 0; p < pairs; ++p) {
      XPair& o = out[prepared_index(j, p, pairs)];
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const int64_t b = 2 * p + h;
        __m256i q = flip;
        float d = 0;
        if (b < nb) {
          q = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[b].qs)), flip);
          d = _cvtsh_ss(row[b].d);
        }
        _mm256_store_si256(reinterpret_cast<__m256i*>(o.qs + 32 * h), q);
        _mm256_store_ps(o.d + 8 * h, _mm256_set1_ps(d));
      }
    }
  }
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

// The 64 values of two 32-element blocks (16 bytes of codes each) in element order: lanes 0-1
// the low and high nibbles of `first`, lanes 2-3 those of `second`. Without `second` (an odd
// last block) the upper half repeats `first`; its scale is 0 on both sides (the weight's in
// blocks_times_group, the activation's in prepare_q8_0), so those lanes add exact zeros.
[[gnu::always_inline]] inline __m512i decode_pair(const uint8_t* first, const uint8_t* second, __m512i table) {
  __m512i q = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first)));
  if (second) q = _mm512_mask_broadcast_i32x4(q, 0xFF00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(second)));
  // Lanes 1 and 3 shift right by 4, bringing each byte's high nibble down; the mask keeps it.
  q = _mm512_srlv_epi64(q, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
  return _mm512_shuffle_epi8(table, _mm512_and_si512(q, _mm512_set1_epi8(0x0F)));
}

// -128 * (sum of the 4 values) of each dword lane: the seed that undoes the activations' offset.
[[gnu::always_inline]] inline __m512i offset_seed(__m512i values) {
  const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(static_cast<char>(0x80)), values);
  return _mm512_sub_epi32(_mm512_setzero_si512(), sums);
}

// [a x 8 | b x 8].
[[gnu::always_inline]] inline __m512 halves(float a, float b) {
  return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}

// The 32-element formats: the block, its table and its scale as f32.
struct IQ4NL {
  using Block = BlockIQ4_NL;
  static constexpr const int8_t* kValues = kIQ4NLValues;
  static float scale(const Block& b) { return _cvtsh_ss(b.d); }
};
struct MXFP4 {
  using Block = BlockMXFP4;
  static constexpr const int8_t* kValues = kMXFP4Values;
  static float scale(const Block& b) { return e8m0_to_f32_half(b.e); }
};

// y[c * ldy] = dot(weight row w, prepared activation row c) for c < G; x: the group's
// [pairs][kGroup] prepared blocks.
template <class F, int G>
void blocks_times_group(int64_t nb, const typename F::Block* w, const XPair* x, int64_t pairs, float* y,
                        int64_t ldy) {
  const __m512i table = table_of(F::kValues);
  __m512 acc[G];
#pragma GCC unroll 8
  for (int c = 0; c < G; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    const bool whole = 2 * p + 1 < nb;
    const typename F::Block& first = w[2 * p];
    const __m512i values = decode_pair(first.qs, whole ? w[2 * p + 1].qs : nullptr, table);
    const __m512i seed = offset_seed(values);
    const __m512 dw = halves(F::scale(first), whole ? F::scale(w[2 * p + 1]) : 0.0f);
#pragma GCC unroll 8
    for (int c = 0; c < G; ++c) {
      const XPair& xp = x[p * kGroup + c];
      const __m512i sums = _mm512_dpbusd_epi32(seed, _mm512_load_si512(xp.qs), values);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(dw, _mm512_load_ps(xp.d)), acc[c]);
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < G; ++c) y[c * ldy] = _mm512_reduce_add_ps(acc[c]);
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

template <class F>
void blocks_times_rows(int g, int64_t nb, const typename F::Block* w, const XPair* x, int64_t pairs, float* y,
                       int64_t ldy) {
  switch (g) {
    case 1: return blocks_times_group<F, 1>(nb, w, x, pairs, y, ldy);
    case 2: return blocks_times_group<F, 2>(nb, w, x, pairs, y, ldy);
    case 3: return blocks_times_group<F, 3>(nb, w, x, pairs, y, ldy);
    case 4: return blocks_times_group<F, 4>(nb, w, x, pairs, y, ldy);
    case 5: return blocks_times_group<F, 5>(nb, w, x, pairs, y, ldy);
    case 6: return blocks_times_group<F, 6>(nb, w, x, pairs, y, ldy);
    case 7: return blocks_times_group<F, 7>(nb, w, x, pairs, y, ldy);
    default: return blocks_times_group<F, 8>(nb, w, x, pairs, y, ldy);
  }
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
template <class F>
void gemm_blocks(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n,
                 float* y, int64_t ldy) {
  if (m <= 0 || n <= 0) return;
  const int64_t nb = k / 32, pairs = ceil_div(nb, 2);
  const int64_t groups = ceil_div(n, kGroup);
  auto* xp = static_cast<XPair*>(ThreadScratch::get(Slot::kActivations, groups * kGroup * pairs * sizeof(XPair)));
  prepare_q8_0(static_cast<const uint8_t*>(x), x_stride, n, nb, xp);
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  for (int64_t i = 0; i < m; ++i) {
    const auto* row = reinterpret_cast<const typename F::Block*>(w_bytes + i * w_stride);
    for (int64_t j0 = 0; j0 < n; j0 += kGroup) {
      const int g = static_cast<int>(std::min<int64_t>(kGroup, n - j0));
      blocks_times_rows<F>(g, nb, row, xp + j0 * pairs, pairs, y + j0 * ldy + i, ldy);  // the group starts at j0 / kGroup * pairs * kGroup
    }
  }
}

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

void register_avx512_lut4(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kIQ4_NL)] = gemm_blocks<IQ4NL>;
  t.gemm[static_cast<uint32_t>(DType::kMXFP4)] = gemm_blocks<MXFP4>;
  t.gemm[static_cast<uint32_t>(DType::kIQ4_XS)] = gemm_iq4_xs;
}

}  // namespace corral::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options
