// AVX2 gemm for the 32-element quants: Q4_0, Q5_0, Q8_0 and the lookup-table formats IQ4_NL
// and MXFP4 with Q8_0 activations, Q4_1, Q5_1 with Q8_1 activations.
//
// The layout of the AVX-512 kernel (x86/avx512/quant_gemm.cc explains it) on 8 lanes: panels
// of 8 weight rows are transposed so ymm lane r holds row r, and each activation's 4 bytes are
// broadcast to all rows. Without VNNI, vpmaddubsw multiplies unsigned codes by signed
// activations into 16-bit pair sums and vpmaddwd widens them:
// - Q4 codes (<= 15): |pair| <= 2 * 15 * 128, so all 8 groups of a block add up in 16 bits
//   (<= 30720) before one widening;
// - Q5 codes (<= 31): 4 groups fit (<= 31744), so two widenings per block;
// - Q8_0 weights are signed. Offsetting them by 128 would let pair sums reach 2 * 255 * 127 and
//   saturate, so the sign trick instead: |w| times x with w's sign (vpsignb), exact, each
//   group widened on its own. IQ4_NL and MXFP4 codes become their signed table values (one
//   vpshufb per code vector) and take the same path. The sign trick is exact for x != -128,
//   which the Q8_0 quantizer never emits (a block's largest magnitude maps to +-127).
// The _0 formats' offset correction and the f32 accumulation order are the AVX-512 kernel's,
// so each output depends only on its two rows (matmul.h).
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/generic/lut4_layout.h"
#include "kernels/x86/avx2/legacy.h"
#include "kernels/x86/x86_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels::avx2 {
namespace {

// Loops over register arrays carry `#pragma GCC unroll`: at -O2 GCC leaves short fixed-count
// loops rolled, which keeps the arrays in memory instead of registers.

using x86::Slot;
using x86::ThreadScratch;

constexpr int kLanes = 8;  // weight rows per panel: one per ymm lane
constexpr int kGroup = 4;  // activation rows per pass: their sums and accumulators, a code
                           // vector and a broadcast fit the 16 ymm registers

// One block of a panel after transposition.
struct alignas(32) PanelBlock {
  __m256i codes[8];    // codes[g] lane r: elements 4g..4g+3 of row r (Q8_0: |w|)
  __m256i signs[8];    // Q8_0 only: the signed weights, for vpsignb
  uint16_t d[kLanes];  // [row] f16 scale (MXFP4: its E8M0 exponent byte)
  uint16_t m[kLanes];  // [row] f16 min (Q4_1, Q5_1)
};

// One block of kGroup activation rows side by side (see the AVX-512 kernel).
struct alignas(32) XBlock {
  int8_t qs[kGroup][32];  // [row][element] codes
  float d[kGroup];        // [row] scale
  int32_t corr[kGroup];   // [row] -offset * sum(qs): the _0 formats' correction
  float s[kGroup];        // [row] Q8_1's d * sum(qs), widened
  float pad[kGroup];      // keeps the struct a multiple of 32 bytes
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <typename T>
T load_as(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

__m256i bcast32(const int8_t* p) { return _mm256_set1_epi32(load_as<int32_t>(p)); }

// ---- Activations ---------------------------------------------------------------------------

// Copies n activation rows into XBlocks ([group][block]); with kOffset, also computes
// -offset * sum(codes) per block (Q4_0, Q5_0; Q8_0's sign trick needs no correction).
template <typename Act, int kOffset>
void prepare_activations(const uint8_t* x, size_t x_stride, int64_t n, int64_t nb, XBlock* out) {
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int64_t j0 = 0; j0 < n; j0 += kGroup) {
    const int rows = static_cast<int>(std::min<int64_t>(kGroup, n - j0));
    for (int64_t b = 0; b < nb; ++b) {
      XBlock& xb = out[j0 / kGroup * nb + b];
      __m256i partial[kGroup];
#pragma GCC unroll 4
      for (int r = 0; r < kGroup; ++r) {
        partial[r] = _mm256_setzero_si256();
        if (r >= rows) continue;
        const Act& src = reinterpret_cast<const Act*>(x + (j0 + r) * x_stride)[b];
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src.qs));
        _mm256_store_si256(reinterpret_cast<__m256i*>(xb.qs[r]), q);
        xb.d[r] = _cvtsh_ss(src.d);
        if constexpr (std::is_same_v<Act, BlockQ8_1>) xb.s[r] = _cvtsh_ss(src.s);
        if constexpr (kOffset != 0) { partial[r] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16); }
      }
      if constexpr (kOffset != 0) {
        // hadd twice: [p0 p1 p2 p3] sums of each 128-bit half; then add the halves.
        const __m256i h =
            _mm256_hadd_epi32(_mm256_hadd_epi32(partial[0], partial[1]), _mm256_hadd_epi32(partial[2], partial[3]));
        const __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
        _mm_store_si128(reinterpret_cast<__m128i*>(xb.corr), _mm_mullo_epi32(sums, _mm_set1_epi32(-kOffset)));
      }
    }
  }
}

// ---- Weight panels -------------------------------------------------------------------------

struct Rows {
  const uint8_t* base;  // row r at base + r * stride
  size_t stride;
};

// In each 128-bit lane, a 4x4 transpose of dwords across a, b, c, d.
[[gnu::always_inline]] inline void transpose_dwords_4x4(__m256i a, __m256i b, __m256i c, __m256i d, __m256i out[4]) {
  const __m256i t0 = _mm256_unpacklo_epi32(a, b), t1 = _mm256_unpackhi_epi32(a, b);
  const __m256i t2 = _mm256_unpacklo_epi32(c, d), t3 = _mm256_unpackhi_epi32(c, d);
  out[0] = _mm256_unpacklo_epi64(t0, t2);
  out[1] = _mm256_unpackhi_epi64(t0, t2);
  out[2] = _mm256_unpacklo_epi64(t1, t3);
  out[3] = _mm256_unpackhi_epi64(t1, t3);
}

// [16 bytes at p | 16 bytes at p + step]: a broadcast load and a blend, which any ALU port
// runs, rather than vinserti128, which needs the shuffle port the transposes use.
[[gnu::always_inline]] inline __m256i load_2x128(const uint8_t* p, size_t step) {
  const __m256i lo = _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i hi = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + step)));
  return _mm256_blend_epi32(lo, hi, 0xF0);
}

// Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, MXFP4 (qs: element t in the low nibble of byte t, t + 16
// in the high one). Vectors [row i | row i + 4] transpose to dword s of rows 0..7 in lane order.
// With kTable (IQ4_NL, MXFP4) a code stands for the signed value kTable[code]: stored as
// |value| in codes and the value in signs, as Q8_0's weights.
// kLut says whether kTable is set: comparing the table's address with nullptr is not a
// constant expression under GCC's -fsanitize=address/undefined (the sanitized build).
template <typename Block, bool kHighBit, const int8_t* kTable = nullptr, bool kLut = false>
struct NibbleFormat {
  static constexpr bool kSigned = kLut;

  [[gnu::always_inline]] static void pack(Rows rows, int64_t b, const uint32_t* qh, PanelBlock& out) {
    const uint8_t* p = rows.base + b * sizeof(Block) + offsetof(Block, qs);
    const size_t s = rows.stride;
    __m256i q[4];
    transpose_dwords_4x4(load_2x128(p, 4 * s), load_2x128(p + s, 4 * s), load_2x128(p + 2 * s, 4 * s),
                         load_2x128(p + 3 * s, 4 * s), q);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256i codes[8];
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      codes[g] = _mm256_and_si256(q[g], low4);
      codes[g + 4] = _mm256_and_si256(_mm256_srli_epi16(q[g], 4), low4);
    }
    if constexpr (kHighBit) {
      // Code vector g needs bits 4g..4g+3 of each row's qh at bit 4 of bytes 0..3: copy qh's
      // byte g / 2 to the dword's four bytes, test one bit per byte, keep 0x10 where it is set.
      const __m256i bits = _mm256_load_si256(reinterpret_cast<const __m256i*>(qh));
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        const char src = static_cast<char>(g / 2);
        const __m256i spread = _mm256_shuffle_epi8(
            bits,
            _mm256_setr_epi8(src, src, src, src, src + 4, src + 4, src + 4, src + 4, src + 8, src + 8, src + 8, src + 8,
                             src + 12, src + 12, src + 12, src + 12, src, src, src, src, src + 4, src + 4, src + 4,
                             src + 4, src + 8, src + 8, src + 8, src + 8, src + 12, src + 12, src + 12, src + 12));
        const int shift = 4 * (g % 2);
        const __m256i mask = _mm256_set1_epi32(static_cast<int>(0x08040201u << shift));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, mask), mask);
        codes[g] = _mm256_or_si256(codes[g], _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
      }
    }
    if constexpr (kLut) {
      const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kTable)));
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        const __m256i values = _mm256_shuffle_epi8(table, codes[g]);
        _mm256_store_si256(&out.signs[g], values);
        codes[g] = _mm256_sign_epi8(values, values);
      }
    }
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) _mm256_store_si256(&out.codes[g], codes[g]);
  }
};

// Q8_0: row i's 32 bytes transpose (rows 0-3, then 4-7) to lanes (rows 0-3 dwords s, rows 0-3
// dwords 4+s); a lane permute pairs the row halves.
struct Q8Format {
  static constexpr bool kSigned = true;

  [[gnu::always_inline]] static __m256i load(const uint8_t* q) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  }

  [[gnu::always_inline]] static void pack(Rows rows, int64_t b, const uint32_t*, PanelBlock& out) {
    const uint8_t* p = rows.base + b * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs);
    const size_t s = rows.stride;
    __m256i t[4], u[4];
    transpose_dwords_4x4(load(p), load(p + s), load(p + 2 * s), load(p + 3 * s), t);
    transpose_dwords_4x4(load(p + 4 * s), load(p + 5 * s), load(p + 6 * s), load(p + 7 * s), u);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m256i lo = _mm256_permute2x128_si256(t[k], u[k], 0x20);
      const __m256i hi = _mm256_permute2x128_si256(t[k], u[k], 0x31);
      _mm256_store_si256(&out.signs[k], lo);
      _mm256_store_si256(&out.signs[k + 4], hi);
      _mm256_store_si256(&out.codes[k], _mm256_abs_epi8(lo));
      _mm256_store_si256(&out.codes[k + 4], _mm256_abs_epi8(hi));
    }
  }
};

template <typename BlockT, typename ActT, typename FormatT, int kOffsetV, bool kHasMinV, bool kHasHighBitsV,
          bool kE8M0V = false>
struct Weights {
  using Block = BlockT;
  using Act = ActT;
  using Format = FormatT;
  static constexpr int kOffset = kOffsetV;  // code - offset is the value (Q8_0: signed codes)
  static constexpr bool kHasMin = kHasMinV;
  static constexpr bool kHasHighBits = kHasHighBitsV;
  static constexpr bool kE8M0 = kE8M0V;  // scale 2^(e - 128) from an exponent byte (MXFP4), not f16 d
};

using Q4_0 = Weights<BlockQ4_0, BlockQ8_0, NibbleFormat<BlockQ4_0, false>, 8, false, false>;
using Q4_1 = Weights<BlockQ4_1, BlockQ8_1, NibbleFormat<BlockQ4_1, false>, 0, true, false>;
using Q5_0 = Weights<BlockQ5_0, BlockQ8_0, NibbleFormat<BlockQ5_0, true>, 16, false, true>;
using Q5_1 = Weights<BlockQ5_1, BlockQ8_1, NibbleFormat<BlockQ5_1, true>, 0, true, true>;
using Q8_0 = Weights<BlockQ8_0, BlockQ8_0, Q8Format, 0, false, false>;
using IQ4_NL = Weights<BlockIQ4_NL, BlockQ8_0, NibbleFormat<BlockIQ4_NL, false, kIQ4NLValues, true>, 0, false, false>;
using MXFP4 =
    Weights<BlockMXFP4, BlockQ8_0, NibbleFormat<BlockMXFP4, false, kMXFP4Values, true>, 0, false, false, true>;

// Blocks requested ahead of the scalar pass that first touches them, running on into the next
// panel's rows (see the AVX-512 kernel's prefetch_ahead).
constexpr int64_t kPrefetchBlocks = 48;

// Transposes the panel into out[0..nb): scalar fields with scalar loads and stores first
// (see the AVX-512 kernel), then the codes.
template <typename W>
void pack_panel(Rows rows, int64_t nb, uint32_t* qh, PanelBlock* out) {
  using Block = typename W::Block;
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t ahead = b + kPrefetchBlocks;
    const uint8_t* next = ahead < nb ? rows.base + ahead * sizeof(Block)
                                     : rows.base + kLanes * rows.stride + (ahead - nb) * sizeof(Block);
#pragma GCC unroll 8
    for (int r = 0; r < kLanes; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(next + r * rows.stride), _MM_HINT_T0);
    }
    const uint8_t* p = rows.base + b * sizeof(Block);
#pragma GCC unroll 8
    for (int r = 0; r < kLanes; ++r) {
      const auto& blk = *reinterpret_cast<const Block*>(p + r * rows.stride);
      if constexpr (W::kE8M0) {
        out[b].d[r] = blk.e;
      } else {
        out[b].d[r] = blk.d;
      }
      if constexpr (W::kHasMin) out[b].m[r] = blk.m;
      if constexpr (W::kHasHighBits) qh[b * kLanes + r] = load_as<uint32_t>(blk.qh);
    }
  }
  for (int64_t b = 0; b < nb; ++b) W::Format::pack(rows, b, qh + b * kLanes, out[b]);
}

// ---- The dot products ----------------------------------------------------------------------

// Exact integer block sums of G activation rows against a block, one lane per weight row:
// codes and signs as PanelBlock holds them (a panel's, or a stored step's in registers).
template <typename W, int G>
[[gnu::always_inline]] inline void block_sums(const __m256i* codes, const __m256i* signs, const XBlock& x,
                                              __m256i isum[G]) {
  const __m256i ones16 = _mm256_set1_epi16(1);
  if constexpr (W::Format::kSigned) {
#pragma GCC unroll 4
    for (int jj = 0; jj < G; ++jj) isum[jj] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m256i c = codes[g];
      const __m256i sign = signs[g];
#pragma GCC unroll 4
      for (int jj = 0; jj < G; ++jj) {
        const __m256i pairs = _mm256_maddubs_epi16(c, _mm256_sign_epi8(bcast32(x.qs[jj] + 4 * g), sign));
        isum[jj] = _mm256_add_epi32(isum[jj], _mm256_madd_epi16(pairs, ones16));
      }
    }
  } else {
    // Groups added in 16 bits: all 8 for 4-bit codes, 4 at a time for 5-bit ones.
    constexpr int kPerWiden = W::kHasHighBits ? 4 : 8;
#pragma GCC unroll 4
    for (int jj = 0; jj < G; ++jj) isum[jj] = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int g0 = 0; g0 < 8; g0 += kPerWiden) {
      __m256i s16[G];
#pragma GCC unroll 4
      for (int jj = 0; jj < G; ++jj) s16[jj] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int g = g0; g < g0 + kPerWiden; ++g) {
        const __m256i c = codes[g];
#pragma GCC unroll 4
        for (int jj = 0; jj < G; ++jj) {
          s16[jj] = _mm256_add_epi16(s16[jj], _mm256_maddubs_epi16(c, bcast32(x.qs[jj] + 4 * g)));
        }
      }
#pragma GCC unroll 4
      for (int jj = 0; jj < G; ++jj) isum[jj] = _mm256_add_epi32(isum[jj], _mm256_madd_epi16(s16[jj], ones16));
    }
  }
  if constexpr (W::kOffset != 0) {
#pragma GCC unroll 4
    for (int jj = 0; jj < G; ++jj) isum[jj] = _mm256_add_epi32(isum[jj], _mm256_set1_epi32(x.corr[jj]));
  }
}

// 2^(e - 128) for E8M0 exponents e (0..255) in 32-bit lanes, exactly as e8m0_to_f32_half.
[[gnu::always_inline]] inline __m256 e8m0_to_f32_half(__m256i e) {
  const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), 23);
  const __m256i subnormal = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), e);  // used for e < 2
  const __m256i small = _mm256_cmpgt_epi32(_mm256_set1_epi32(2), e);
  return _mm256_castsi256_ps(_mm256_blendv_epi8(normal, subnormal, small));
}

// acc[jj] += isum[jj] * (d_w * d_x[jj]): the f32 step of every block, in this one order.
template <int G>
[[gnu::always_inline]] inline void add_scaled(const __m256i isum[G], __m256 dw, const XBlock& x, __m256 acc[G]) {
#pragma GCC unroll 4
  for (int jj = 0; jj < G; ++jj) {
    acc[jj] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[jj]), _mm256_mul_ps(dw, _mm256_set1_ps(x.d[jj])), acc[jj]);
  }
}

template <typename W, int G>
void dot_group(const PanelBlock* panel, const XBlock* xb, int64_t nb, float* y, int64_t ldy, int valid) {
  __m256 acc[G];
#pragma GCC unroll 4
  for (int jj = 0; jj < G; ++jj) acc[jj] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const PanelBlock& p = panel[b];
    const XBlock& x = xb[b];
    __m256i isum[G];
    block_sums<W, G>(p.codes, p.signs, x, isum);
    const __m128i d_bits = _mm_load_si128(reinterpret_cast<const __m128i*>(p.d));
    __m256 dw;
    if constexpr (W::kE8M0) {
      dw = e8m0_to_f32_half(_mm256_cvtepu16_epi32(d_bits));
    } else {
      dw = _mm256_cvtph_ps(d_bits);
    }
    add_scaled<G>(isum, dw, x, acc);
    if constexpr (W::kHasMin) {
      const __m256 mw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(p.m)));
#pragma GCC unroll 4
      for (int jj = 0; jj < G; ++jj) acc[jj] = _mm256_fmadd_ps(mw, _mm256_set1_ps(x.s[jj]), acc[jj]);
    }
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), lane);
#pragma GCC unroll 4
  for (int jj = 0; jj < G; ++jj) _mm256_maskstore_ps(y + jj * ldy, mask, acc[jj]);
}

template <typename W>
void dot_group_of(int rows_in_group, const PanelBlock* panel, const XBlock* xb, int64_t nb, float* y, int64_t ldy,
                  int valid) {
  switch (rows_in_group) {
    case 1: return dot_group<W, 1>(panel, xb, nb, y, ldy, valid);
    case 2: return dot_group<W, 2>(panel, xb, nb, y, ldy, valid);
    case 3: return dot_group<W, 3>(panel, xb, nb, y, ldy, valid);
    default: return dot_group<W, 4>(panel, xb, nb, y, ldy, valid);
  }
}

template <typename W>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n, float* y,
          int64_t ldy) {
  if (m <= 0 || n <= 0) return;
  const int64_t nb = k / 32;
  const int64_t groups = ceil_div(n, kGroup);
  auto* xb = static_cast<XBlock*>(ThreadScratch::get(Slot::kActivations, groups * nb * sizeof(XBlock)));
  prepare_activations<typename W::Act, W::kOffset>(static_cast<const uint8_t*>(x), x_stride, n, nb, xb);
  const size_t panel_bytes = nb * sizeof(PanelBlock);
  auto* panel =
      static_cast<PanelBlock*>(ThreadScratch::get(Slot::kWeights, panel_bytes + nb * kLanes * sizeof(uint32_t)));
  auto* qh = reinterpret_cast<uint32_t*>(reinterpret_cast<uint8_t*>(panel) + panel_bytes);
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  for (int64_t i0 = 0; i0 < m; i0 += kLanes) {
    const int valid = static_cast<int>(std::min<int64_t>(kLanes, m - i0));
    Rows rows{w_bytes + i0 * w_stride, w_stride};
    if (valid < kLanes) {
      const size_t row_bytes = nb * sizeof(typename W::Block);
      rows = Rows{x86::padded_panel(rows.base, w_stride, valid, kLanes, row_bytes), row_bytes};
    }
    pack_panel<W>(rows, nb, qh, panel);
    for (int64_t g = 0; g < groups; ++g) {
      dot_group_of<W>(static_cast<int>(std::min<int64_t>(kGroup, n - g * kGroup)), panel, xb + g * nb, nb,
                      y + g * kGroup * ldy + i0, ldy, valid);
    }
  }
}

// ---- Dword-interleaved full groups: Q4_0 and Q8_0 -------------------------------------------

// In a full group (kInterleaveRows = 16 rows) of an interleaved Q4_0 or Q8_0 matrix (api.h
// interleaves_dwords) block b's step is the 16 rows' f16 d (32 bytes), then dword j of the 16
// rows in 64 bytes: rows 8h .. 8h + 7 of dword j are the 32 bytes at 32 + 64 j + 32 h, which is
// what pack_panel makes of a panel block (codes[g] lane r: elements 4g .. 4g + 3 of row r). So
// a half-group's block needs no transpose: its codes come straight from the step, and every
// product and sum after that is a panel's (block_sums, add_scaled), with a panel's bits.
constexpr int64_t kHalves = kInterleaveRows / kLanes;
static_assert(kHalves == 2, "a stored step is two panels of 8 rows");

// Half h's codes (Q8_0: |w|, and the signed weights in signs) and scales of the step.
template <typename W>
[[gnu::always_inline]] inline void stored_half(const uint8_t* step, int h, __m256i codes[8], __m256i signs[8],
                                               __m256& dw) {
  static_assert(std::is_same_v<W, Q8_0> || std::is_same_v<W, Q4_0>, "Q4_0 and Q8_0 are stored dword by dword");
  constexpr DType kType = std::is_same_v<W, Q8_0> ? DType::kQ8_0 : DType::kQ4_0;
  dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(step + 16 * h)));
  const uint8_t* qs = step + interleaved_head_bytes(kType) * kInterleaveRows + 32 * h;
  if constexpr (std::is_same_v<W, Q8_0>) {
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      signs[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 64 * g));
      codes[g] = _mm256_abs_epi8(signs[g]);
    }
  } else {
    // Dword j: elements 4j .. 4j + 3 in the low nibbles, 16 + 4j .. in the high ones.
    const __m256i low4 = _mm256_set1_epi8(0x0F);
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 64 * j));
      codes[j] = _mm256_and_si256(v, low4);
      codes[4 + j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    }
  }
}

// One full group against G activation rows (xb: their blocks, [nb]), halves h0 .. h0 + H - 1
// in one pass over the steps.
template <typename W, int G, int H>
void stored_group(const uint8_t* group, int h0, int64_t nb, const XBlock* xb, float* y, int64_t ldy) {
  constexpr size_t kStep = kInterleaveRows * sizeof(typename W::Block);
  __m256 acc[H][G];
#pragma GCC unroll 2
  for (int h = 0; h < H; ++h) {
#pragma GCC unroll 4
    for (int jj = 0; jj < G; ++jj) acc[h][jj] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* step = group + b * kStep;
#pragma GCC unroll 2
    for (int h = 0; h < H; ++h) {
      __m256i codes[8], signs[8];
      __m256 dw;
      stored_half<W>(step, h0 + h, codes, signs, dw);
      __m256i isum[G];
      block_sums<W, G>(codes, signs, xb[b], isum);
      add_scaled<G>(isum, dw, xb[b], acc[h]);
    }
  }
#pragma GCC unroll 2
  for (int h = 0; h < H; ++h) {
#pragma GCC unroll 4
    for (int jj = 0; jj < G; ++jj) _mm256_storeu_ps(y + jj * ldy + kLanes * (h0 + h), acc[h][jj]);
  }
}

// The last, partial group of an interleaved matrix (g < 16 rows, blocks [block][row]) back in
// row order, for gemm.
template <typename W>
const uint8_t* row_order(const uint8_t* group, int64_t g, int64_t nb) {
  constexpr size_t kBlock = sizeof(typename W::Block);
  auto* out = static_cast<uint8_t*>(ThreadScratch::get(Slot::kRowOrder, g * nb * kBlock));
  for (int64_t r = 0; r < g; ++r) {
    for (int64_t b = 0; b < nb; ++b) std::memcpy(out + (r * nb + b) * kBlock, group + (b * g + r) * kBlock, kBlock);
  }
  return out;
}

// The GemmFn of interleaved Q4_0 and Q8_0: full groups straight from their steps; the last
// group, if partial, in row order through gemm. kernels_bench matmul/*/8192x2048 at avx2
// (AMD EPYC, against gemm on rows in order): n = 1 Q4_0 0.78 -> 0.33 ms, Q8_0 1.32 -> 0.54;
// n = 4 1.14 -> 0.60-0.73, 1.59 -> 1.02-1.09; n = 512 within the run-to-run swing.
template <typename W>
void gemm_interleaved_dwords(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride,
                             int64_t n, float* y, int64_t ldy) {
  if (m <= 0 || n <= 0) return;
  const int64_t nb = k / 32, groups = ceil_div(n, kGroup), full = m / kInterleaveRows * kInterleaveRows;
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  if (full > 0) {
    auto* xb = static_cast<XBlock*>(ThreadScratch::get(Slot::kActivations, groups * nb * sizeof(XBlock)));
    prepare_activations<typename W::Act, W::kOffset>(static_cast<const uint8_t*>(x), x_stride, n, nb, xb);
    for (int64_t i0 = 0; i0 < full; i0 += kInterleaveRows) {
      const uint8_t* group = w_bytes + i0 * w_stride;
      if (n <= 2) {
        // Both halves in one pass: the group streams from memory once, each 64-byte piece used whole.
        if (n == 1) stored_group<W, 1, 2>(group, 0, nb, xb, y + i0, ldy);
        else stored_group<W, 2, 2>(group, 0, nb, xb, y + i0, ldy);
        continue;
      }
      // One half per pass, kGroup activation rows at a time (their sums and accumulators fill
      // the registers); later passes read the group from L1 or L2 (35 KiB of Q8_0 at k = 2048).
      for (int h = 0; h < kHalves; ++h) {
        for (int64_t g = 0; g < groups; ++g) {
          const XBlock* xg = xb + g * nb;
          float* yg = y + g * kGroup * ldy + i0;
          switch (std::min<int64_t>(kGroup, n - g * kGroup)) {
            case 1: stored_group<W, 1, 1>(group, h, nb, xg, yg, ldy); break;
            case 2: stored_group<W, 2, 1>(group, h, nb, xg, yg, ldy); break;
            case 3: stored_group<W, 3, 1>(group, h, nb, xg, yg, ldy); break;
            default: stored_group<W, 4, 1>(group, h, nb, xg, yg, ldy); break;
          }
        }
      }
    }
  }
  if (full < m) {
    const size_t row_bytes = nb * sizeof(typename W::Block);
    gemm<W>(k, row_order<W>(w_bytes + full * w_stride, m - full, nb), row_bytes, m - full, x, x_stride, n, y + full,
            ldy);
  }
}

}  // namespace

void register_quant_gemm(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_0)] = gemm<Q4_0>;
  t.gemm[static_cast<uint32_t>(DType::kQ4_1)] = gemm<Q4_1>;
  t.gemm[static_cast<uint32_t>(DType::kQ5_0)] = gemm<Q5_0>;
  t.gemm[static_cast<uint32_t>(DType::kQ5_1)] = gemm<Q5_1>;
  t.gemm[static_cast<uint32_t>(DType::kQ8_0)] = gemm<Q8_0>;
  t.gemm[static_cast<uint32_t>(DType::kIQ4_NL)] = gemm<IQ4_NL>;
  t.gemm[static_cast<uint32_t>(DType::kMXFP4)] = gemm<MXFP4>;
  // Interleaved weights (api.h kInterleaveRows): Q4_0 and Q8_0, whose full groups are stored
  // as this level's panels (two per group).
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ4_0)] = gemm_interleaved_dwords<Q4_0>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ8_0)] = gemm_interleaved_dwords<Q8_0>;
}

}  // namespace corral::kernels::avx2

#pragma GCC pop_options
