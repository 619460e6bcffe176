// AVX-512 VNNI gemm for the 32-element quants: Q4_0, Q5_0, Q8_0 and the lookup-table formats
// IQ4_NL and MXFP4 with Q8_0 activations, Q4_1, Q5_1 with Q8_1 activations.
//
// The zmm lanes are weight rows, not elements. A "panel" of 16 weight rows is transposed block
// by block so that code vector g holds, in lane r, the 4 bytes of elements 4g..4g+3 of row r.
// One vpdpbusd against 4 activation bytes broadcast to every lane then advances 16 dot
// products at once, and after 8 of them each lane holds its row's exact integer block sum:
// no horizontal reductions anywhere. The transposition is paid once per weight block and
// shared by every activation row, which is what makes batched decode nearly free: the block is
// read from memory once and applied to all n rows while it sits in L1.
//
// Each output then accumulates, in block order and in one f32 lane,
//   acc = fma(float(isum_b), d_w * d_x, acc)           (+ acc = fma(m_w, s_x, acc) for _1)
// the same operations whatever the panel, the group of activation rows or the batch, which is
// the determinism matmul.h promises.
//
// vpdpbusd multiplies unsigned by signed bytes. Weight codes are unsigned (Q4/Q5 codes, Q8_0
// weights + 128 by flipping the sign bit, IQ4_NL/MXFP4 table values + 128 straight from a
// vpshufb on a table stored that way); the activations stay signed. The _0 formats store
// q - offset, so isum = sum(code * x) - offset * sum(x), and offset * sum(x) per activation
// block is computed once per call (`prepare_activations`) and seeds the integer accumulator.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/api.h"
#include "kernels/generic/lut4_layout.h"
#include "kernels/x86/avx512/gemv16.h"
#include "kernels/x86/avx512/legacy.h"
#include "kernels/x86/x86_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")
// GCC 12's intrinsics pass `_mm512_undefined_ps()` (a self-initialised variable) as the unused
// merge source of unmasked operations, which -W(maybe-)uninitialized reports once inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace corral::kernels::avx512 {
namespace {

// Loops over register arrays carry `#pragma GCC unroll`: at -O2 GCC leaves short fixed-count
// loops rolled, which keeps the arrays in memory instead of registers.

using x86::Slot;
using x86::ThreadScratch;

constexpr int kLanes = 16;  // weight rows per panel: one per zmm lane
constexpr int kGroup = 8;   // activation rows per pass over a panel: 8 f32 accumulators, 8
                            // code vectors and temporaries fit the 32 zmm registers

// One block of a panel after transposition.
struct alignas(64) PanelBlock {
  __m512i codes[8];    // codes[g] lane r: elements 4g..4g+3 of row r as unsigned bytes
  uint16_t d[kLanes];  // [row] f16 scale (MXFP4: its E8M0 exponent byte)
  uint16_t m[kLanes];  // [row] f16 min (Q4_1, Q5_1)
};

// One block of kGroup activation rows, side by side so the kernel reaches every byte it
// broadcasts with a constant displacement from one pointer.
struct alignas(32) XBlock {
  int8_t qs[kGroup][32];  // [row][element] codes
  float d[kGroup];        // [row] scale
  int32_t corr[kGroup];   // [row] -offset * sum(qs): the _0 formats' correction
  float s[kGroup];        // [row] d * sum(qs) as stored by Q8_1 (its f16, widened)
};

// Block b of G activation rows for the dword-interleaved kernels (decode's G sequences) with
// nothing between them: what an XBlock holds for its first G rows, under the same names. In
// an XBlock one row's codes lie 256 bytes from its scale and correction and 352 from the next
// block's codes, two or three lines per block, and the weight stream evicts them from L1
// between 16-row groups, so the one-row kernel waited on those L2 reads besides each step's
// 4.5 (Q4_0) or 8.5 (Q8_0) lines from DRAM. One row takes one line per block (64 bytes).
// kernels_bench matmul_interleaved/*/n:1, alternating: from L3 Q8_0 104-113 -> 120-121 GB/s,
// Q4_0 71-73 -> 79-80; from DRAM (8192x2048) Q8_0 30.6-32.0 -> 31.7-34.7 (5 of 5). Two rows
// (96 bytes a block): Q8_0 from DRAM 0.64-0.78 -> 0.55-0.63 ms (4 of 4), from L3 0.055-0.064
// -> 0.048-0.054; Q4_0, and 4 or 8 rows, within the noise.
template <int G>
struct alignas(G == 1 ? 64 : 32) XRows {
  int8_t qs[G][32];  // [row][element] codes
  float d[G];        // [row] scale
  int32_t corr[G];   // [row] -offset * sum(qs)
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <typename T>
T load_as(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// ---- Activations ---------------------------------------------------------------------------

// Sums of the 8 dword lanes of each of p[0..7], in one vector (lane j = sum of p[j]).
__m256i sum_lanes8(const __m256i p[8]) {
  const __m256i a01 = _mm256_hadd_epi32(p[0], p[1]), a23 = _mm256_hadd_epi32(p[2], p[3]);
  const __m256i a45 = _mm256_hadd_epi32(p[4], p[5]), a67 = _mm256_hadd_epi32(p[6], p[7]);
  // b0 = [p0 p1 p2 p3 (low half sums) | p0 p1 p2 p3 (high half sums)], b1 likewise for p4..p7.
  const __m256i b0 = _mm256_hadd_epi32(a01, a23), b1 = _mm256_hadd_epi32(a45, a67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(b0, b1, 0x20), _mm256_permute2x128_si256(b0, b1, 0x31));
}

// Copies n activation rows into XBlocks ([group][block]); for Q8_0 activations (Act =
// BlockQ8_0) also computes -offset * sum(codes) per block.
template <typename Act, int kOffset>
void prepare_activations(const uint8_t* x, size_t x_stride, int64_t n, int64_t nb, XBlock* out) {
  const __m256i ones = _mm256_set1_epi8(1);
  for (int64_t j0 = 0; j0 < n; j0 += kGroup) {
    const int rows = static_cast<int>(std::min<int64_t>(kGroup, n - j0));
    for (int64_t b = 0; b < nb; ++b) {
      XBlock& xb = out[j0 / kGroup * nb + b];
      __m256i partial[kGroup];
#pragma GCC unroll 16
      for (int r = 0; r < kGroup; ++r) {
        partial[r] = _mm256_setzero_si256();
        if (r >= rows) continue;
        const Act& src = reinterpret_cast<const Act*>(x + (j0 + r) * x_stride)[b];
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src.qs));
        _mm256_store_si256(reinterpret_cast<__m256i*>(xb.qs[r]), q);
        xb.d[r] = _cvtsh_ss(src.d);
        if constexpr (std::is_same_v<Act, BlockQ8_1>) {
          xb.s[r] = _cvtsh_ss(src.s);
        } else {
          partial[r] = _mm256_dpbusd_epi32(partial[r], ones, q);  // 4-byte sums of q
        }
      }
      if constexpr (std::is_same_v<Act, BlockQ8_0>) {
        const __m256i corr = _mm256_mullo_epi32(sum_lanes8(partial), _mm256_set1_epi32(-kOffset));
        _mm256_store_si256(reinterpret_cast<__m256i*>(xb.corr), corr);
      }
    }
  }
}

// G Q8_0 activation rows into XRows ([block]), as prepare_activations fills an XBlock.
template <int G, int kOffset>
void prepare_rows(const uint8_t* x, size_t x_stride, int64_t nb, XRows<G>* out) {
  for (int64_t b = 0; b < nb; ++b) {
    for (int r = 0; r < G; ++r) {
      const BlockQ8_0& src = reinterpret_cast<const BlockQ8_0*>(x + r * x_stride)[b];
      std::memcpy(out[b].qs[r], src.qs, 32);
      int32_t sum = 0;
      for (int8_t q : src.qs) sum += q;
      out[b].d[r] = _cvtsh_ss(src.d);
      out[b].corr[r] = -kOffset * sum;
    }
  }
}

// ---- Weight panels -------------------------------------------------------------------------

// A panel's rows: block b of row r at base + b * block_step + r * stride. In row order stride is
// the row's bytes and block_step one block; interleaved (api.h kInterleaveRows) stride is one
// block and block_step the group's 16 blocks. A partial last panel is first copied to a padded
// one in row order, so this holds for every panel.
struct Rows {
  const uint8_t* base;
  size_t stride;
  size_t block_step;
  bool interleaved;
};

// Inside each 128-bit lane, a 4x4 transpose of dwords across a, b, c, d: out[s] lane L holds
// dword s of lane L of a, b, c, d in that order.
[[gnu::always_inline]] inline void transpose_dwords_4x4(__m512i a, __m512i b, __m512i c, __m512i d, __m512i out[4]) {
  const __m512i t0 = _mm512_unpacklo_epi32(a, b), t1 = _mm512_unpackhi_epi32(a, b);
  const __m512i t2 = _mm512_unpacklo_epi32(c, d), t3 = _mm512_unpackhi_epi32(c, d);
  out[0] = _mm512_unpacklo_epi64(t0, t2);
  out[1] = _mm512_unpackhi_epi64(t0, t2);
  out[2] = _mm512_unpacklo_epi64(t1, t3);
  out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// The 16 bytes at p, p + step, p + 2 step, p + 3 step in the four 128-bit lanes. Masked
// broadcast loads rather than vinserti32x4: the merge runs on port 0 or 5, where inserts need
// port 5, which the unpacks of the transposition already keep busy.
[[gnu::always_inline]] inline __m128i load128(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
[[gnu::always_inline]] inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

[[gnu::always_inline]] inline __m512i load_4x128(const uint8_t* p, size_t step) {
  __m512i v = _mm512_broadcast_i32x4(load128(p));
  v = _mm512_mask_broadcast_i32x4(v, 0x00F0, load128(p + step));
  v = _mm512_mask_broadcast_i32x4(v, 0x0F00, load128(p + 2 * step));
  return _mm512_mask_broadcast_i32x4(v, 0xF000, load128(p + 3 * step));
}

// The 16 bytes at offset `off` of the 16 rows, transposed: q[s] lane r = dword s of row r.
// Lanes of the first vector hold rows 0, 4, 8, 12, of the second rows 1, 5, 9, 13, ..., so
// the in-lane transpose leaves row 4L + i in dword i of lane L: lane order is row order.
[[gnu::always_inline]] inline void transpose_16x16_bytes(Rows rows, size_t off, __m512i q[4]) {
  const uint8_t* p = rows.base + off;
  const size_t step = 4 * rows.stride;
  transpose_dwords_4x4(load_4x128(p, step), load_4x128(p + rows.stride, step), load_4x128(p + 2 * rows.stride, step),
                       load_4x128(p + 3 * rows.stride, step), q);
}

// Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, MXFP4: byte t of qs holds element t (low nibble) and t + 16
// (high), so dword g of qs gives elements 4g.. in its low nibbles and 16 + 4g.. in its high
// nibbles. With kTable (IQ4_NL, MXFP4) a code stands for kTable[code]: one vpshufb per code
// vector turns it into that value + 128, unsigned.
// kLut says whether kTable is set: comparing the table's address with nullptr is not a
// constant expression under GCC's -fsanitize=address/undefined (the sanitized build).
template <typename Block, bool kHighBit, const int8_t* kTable = nullptr, bool kLut = false>
struct NibbleFormat {
  [[gnu::always_inline]] static void pack(Rows rows, int64_t b, const uint32_t* qh, __m512i codes[8]) {
    __m512i q[4];
    transpose_16x16_bytes(rows, b * rows.block_step + offsetof(Block, qs), q);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    if constexpr (!kHighBit) {
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        codes[g] = _mm512_and_si512(q[g], low4);
        codes[g + 4] = _mm512_and_si512(_mm512_srli_epi16(q[g], 4), low4);
      }
      if constexpr (kLut) {
        const __m512i table =
            _mm512_xor_si512(_mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kTable))),
                             _mm512_set1_epi8(static_cast<char>(0x80)));
#pragma GCC unroll 8
        for (int g = 0; g < 8; ++g) codes[g] = _mm512_shuffle_epi8(table, codes[g]);
      }
    } else {
      // Element e's 5th bit is bit e of the row's qh. For code vector g, lane r needs bits
      // 4g..4g+3 of qh_r at bit 4 of bytes 0..3: vpermd looks the nibble (the index's low 4
      // bits) up in a 16-entry table of those byte patterns.
      const __m512i bits = _mm512_load_si512(qh);  // lane r: qh of row r
      const __m512i table = _mm512_setr_epi32(0x00000000, 0x00000010, 0x00001000, 0x00001010, 0x00100000, 0x00100010,
                                              0x00101000, 0x00101010, 0x10000000, 0x10000010, 0x10001000, 0x10001010,
                                              0x10100000, 0x10100010, 0x10101000, 0x10101010);
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m512i hi_lo = _mm512_permutexvar_epi32(_mm512_srli_epi32(bits, 4 * g), table);
        const __m512i hi_hi = _mm512_permutexvar_epi32(_mm512_srli_epi32(bits, 4 * g + 16), table);
        // (q & 0x0F) | high bits, in one vpternlogd.
        codes[g] = _mm512_ternarylogic_epi32(q[g], low4, hi_lo, 0xEA);
        codes[g + 4] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(q[g], 4), low4, hi_hi, 0xEA);
      }
    }
  }
};

// Q8_0: 32 signed bytes per row. Y_a = [row a | row a + 4] (a = 0..3) transposes to lanes
// (rows 0-3 dwords s, rows 0-3 dwords 4+s, rows 4-7 dwords s, rows 4-7 dwords 4+s), and rows
// 8..15 likewise; one lane shuffle per output then gathers rows 0..15 in order. The sign bit
// flip makes the codes unsigned (w + 128) for vpdpbusd.
struct Q8Format {
  [[gnu::always_inline]] static __m512i load_2x256(const uint8_t* p, size_t step) {
    return _mm512_mask_broadcast_i64x4(_mm512_broadcast_i64x4(load256(p)), 0xF0, load256(p + step));
  }

  [[gnu::always_inline]] static void pack(Rows rows, int64_t b, const uint32_t*, __m512i codes[8]) {
    const uint8_t* p = rows.base + b * rows.block_step + offsetof(BlockQ8_0, qs);
    const size_t s = rows.stride;
    __m512i t[4], u[4];
    transpose_dwords_4x4(load_2x256(p, 4 * s), load_2x256(p + s, 4 * s), load_2x256(p + 2 * s, 4 * s),
                         load_2x256(p + 3 * s, 4 * s), t);
    p += 8 * s;
    transpose_dwords_4x4(load_2x256(p, 4 * s), load_2x256(p + s, 4 * s), load_2x256(p + 2 * s, 4 * s),
                         load_2x256(p + 3 * s, 4 * s), u);
    const __m512i sign = _mm512_set1_epi8(static_cast<char>(0x80));
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      codes[k] = _mm512_xor_si512(_mm512_shuffle_i32x4(t[k], u[k], _MM_SHUFFLE(2, 0, 2, 0)), sign);
      codes[k + 4] = _mm512_xor_si512(_mm512_shuffle_i32x4(t[k], u[k], _MM_SHUFFLE(3, 1, 3, 1)), sign);
    }
  }
};

// What the driver needs to know about a weight type.
template <typename BlockT, typename ActT, typename FormatT, int kOffsetV, bool kHasMinV, bool kHasHighBitsV,
          bool kE8M0V = false>
struct Weights {
  using Block = BlockT;
  using Act = ActT;
  using Format = FormatT;
  static constexpr int kOffset = kOffsetV;   // code - offset is the value (0: with a min)
  static constexpr bool kHasMin = kHasMinV;  // x = d * q + m
  static constexpr bool kHasHighBits = kHasHighBitsV;
  static constexpr bool kE8M0 = kE8M0V;  // scale 2^(e - 128) from an exponent byte (MXFP4), not f16 d
};

using Q4_0 = Weights<BlockQ4_0, BlockQ8_0, NibbleFormat<BlockQ4_0, false>, 8, false, false>;
using Q4_1 = Weights<BlockQ4_1, BlockQ8_1, NibbleFormat<BlockQ4_1, false>, 0, true, false>;
using Q5_0 = Weights<BlockQ5_0, BlockQ8_0, NibbleFormat<BlockQ5_0, true>, 16, false, true>;
using Q5_1 = Weights<BlockQ5_1, BlockQ8_1, NibbleFormat<BlockQ5_1, true>, 0, true, true>;
using Q8_0 = Weights<BlockQ8_0, BlockQ8_0, Q8Format, 128, false, false>;
using IQ4_NL = Weights<BlockIQ4_NL, BlockQ8_0, NibbleFormat<BlockIQ4_NL, false, kIQ4NLValues, true>, 128, false, false>;
using MXFP4 =
    Weights<BlockMXFP4, BlockQ8_0, NibbleFormat<BlockMXFP4, false, kMXFP4Values, true>, 128, false, false, true>;

// Blocks whose scalar fields are gathered ahead of their vector work: far enough ahead that the
// scalar stores have drained before vector loads read them (a load spanning several pending
// stores stalls), near enough that the rows are still in L1 for the transposition.
constexpr int64_t kChunkBlocks = 32;

// The f16 scale (and min, and Q5 high bits) of blocks [b0, b1) of the 16 rows, with scalar
// loads and stores: a vector gather of 16-bit fields would cost shuffles, which the
// transposition is short of, while the load and store ports have room.
template <typename W>
void gather_scalars(Rows rows, int64_t b0, int64_t b1, PanelBlock* panel, uint32_t* qh) {
  using Block = typename W::Block;
  for (int64_t b = b0; b < b1; ++b) {
    const uint8_t* p = rows.base + b * rows.block_step;
#pragma GCC unroll 16
    for (int r = 0; r < kLanes; ++r) {
      const auto& blk = *reinterpret_cast<const Block*>(p + r * rows.stride);
      if constexpr (W::kE8M0) {
        panel[b].d[r] = blk.e;
      } else {
        panel[b].d[r] = blk.d;
      }
      if constexpr (W::kHasMin) panel[b].m[r] = blk.m;
      if constexpr (W::kHasHighBits) qh[b * kLanes + r] = load_as<uint32_t>(blk.qh);
    }
  }
}

// Decode reads every weight byte from DRAM once, and the scalar gather that first touches a
// chunk would otherwise stall on 16 rows of misses with nothing else to do. So while block b
// is transposed, block b + kPrefetchBlocks of the 16 rows is requested, running on into the
// next panel's rows (the rows are usually contiguous, so that is where the next panel lies; a
// prefetch never faults). Measured on one core with weights in DRAM, k = 2048: Q4_0 8.1 ->
// 10.1 GB/s, Q8_0 11.0 -> 12.3 GB/s; at k = 8192 both reach the core's 14-15 GB/s.
constexpr int64_t kPrefetchBlocks = 48;

// One prefetch per row every kEvery blocks: addresses less than a cache line apart still reach
// every line, with a third of the instructions for Q4_0's 18-byte blocks.
template <typename W>
[[gnu::always_inline]] inline void prefetch_ahead(Rows rows, int64_t nb, int64_t b) {
  constexpr int64_t kEvery = std::max<int64_t>(1, 64 / sizeof(typename W::Block));
  if (b % kEvery != 0) return;
  const int64_t ahead = b + kPrefetchBlocks;
  if (rows.interleaved) {
    // One stream: the group's blocks, then the next group's. kEvery steps of kLanes blocks.
    const auto* p = reinterpret_cast<const char*>(rows.base + ahead * rows.block_step);
    for (size_t off = 0; off < kEvery * rows.block_step; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
    return;
  }
  const uint8_t* p = ahead < nb ? rows.base + ahead * sizeof(typename W::Block)
                                : rows.base + kLanes * rows.stride + (ahead - nb) * sizeof(typename W::Block);
#pragma GCC unroll 16
  for (int r = 0; r < kLanes; ++r) { _mm_prefetch(reinterpret_cast<const char*>(p + r * rows.stride), _MM_HINT_T0); }
}

// ---- The dot products ----------------------------------------------------------------------

// 2^(e - 128) for E8M0 exponents e (0..255) in 32-bit lanes, exactly as e8m0_to_f32_half.
[[gnu::always_inline]] inline __m512 e8m0_to_f32_half(__m512i e) {
  const __m512i normal = _mm512_slli_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(1)), 23);
  const __m512i subnormal = _mm512_sllv_epi32(_mm512_set1_epi32(0x00200000), e);  // used for e < 2
  const __mmask16 small = _mm512_cmplt_epi32_mask(e, _mm512_set1_epi32(2));
  return _mm512_castsi512_ps(_mm512_mask_blend_epi32(small, normal, subnormal));
}

// A block's codes c (as PanelBlock::codes), its 16 rows' scales dw and (with a min) mins mw
// against G activation rows.
template <typename W, int G, typename X>
[[gnu::always_inline]] inline void dot_block(const __m512i c[8], __m512 dw, __m512 mw, const X& x, __m512 acc[G]) {
  constexpr bool kHasMin = W::kHasMin;
  // Row-interleaved: the G integer sums advance together, so the out-of-order core always has
  // G independent vpdpbusd to issue instead of one 8-deep dependency chain at a time.
  __m512i isum[G];
#pragma GCC unroll 8
  for (int jj = 0; jj < G; ++jj) { isum[jj] = kHasMin ? _mm512_setzero_si512() : _mm512_set1_epi32(x.corr[jj]); }
#pragma GCC unroll 8
  for (int g = 0; g < 8; ++g) {
#pragma GCC unroll 8
    for (int jj = 0; jj < G; ++jj) {
      isum[jj] = _mm512_dpbusd_epi32(isum[jj], c[g], _mm512_set1_epi32(load_as<int32_t>(x.qs[jj] + 4 * g)));
    }
  }
#pragma GCC unroll 8
  for (int jj = 0; jj < G; ++jj) {
    acc[jj] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[jj]), _mm512_mul_ps(dw, _mm512_set1_ps(x.d[jj])), acc[jj]);
    if constexpr (kHasMin) acc[jj] = _mm512_fmadd_ps(mw, _mm512_set1_ps(x.s[jj]), acc[jj]);
  }
}

// Block b of the panel (codes c, scales in p) against G activation rows.
template <typename W, int G>
[[gnu::always_inline]] inline void dot_block(const __m512i c[8], const PanelBlock& p, const XBlock& x, __m512 acc[G]) {
  const __m256i d_bits = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.d));
  __m512 dw;
  if constexpr (W::kE8M0) {
    dw = e8m0_to_f32_half(_mm512_cvtepu16_epi32(d_bits));
  } else {
    dw = _mm512_cvtph_ps(d_bits);
  }
  __m512 mw = _mm512_setzero_ps();
  if constexpr (W::kHasMin) mw = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p.m)));
  dot_block<W, G>(c, dw, mw, x, acc);
}

template <int G>
[[gnu::always_inline]] inline void store_rows(const __m512 acc[G], float* y, int64_t ldy, __mmask16 mask) {
#pragma GCC unroll 8
  for (int jj = 0; jj < G; ++jj) _mm512_mask_storeu_ps(y + jj * ldy, mask, acc[jj]);
}

// The first G (<= kGroup) activation rows against a panel read from the weights: each block is
// transposed into registers and used at once. With kStore, the transposed blocks are also kept
// in `panel` for the remaining activation rows.
template <typename W, int G, bool kStore>
void first_group(Rows rows, int64_t nb, const XBlock* xb, PanelBlock* panel, uint32_t* qh, float* y, int64_t ldy,
                 __mmask16 mask) {
  __m512 acc[G];
#pragma GCC unroll 8
  for (int jj = 0; jj < G; ++jj) acc[jj] = _mm512_setzero_ps();
  for (int64_t b0 = 0; b0 < nb; b0 += kChunkBlocks) {
    const int64_t b1 = std::min(nb, b0 + kChunkBlocks);
    gather_scalars<W>(rows, b0, b1, panel, qh);
    for (int64_t b = b0; b < b1; ++b) {
      prefetch_ahead<W>(rows, nb, b);
      __m512i c[8];
      W::Format::pack(rows, b, qh + b * kLanes, c);
      if constexpr (kStore) {
#pragma GCC unroll 8
        for (int g = 0; g < 8; ++g) _mm512_store_si512(&panel[b].codes[g], c[g]);
      }
      dot_block<W, G>(c, panel[b], xb[b], acc);
    }
  }
  store_rows<G>(acc, y, ldy, mask);
}

// Further activation rows against the panel kept by first_group<..., true>.
template <typename W, int G>
void stored_group(const PanelBlock* panel, const XBlock* xb, int64_t nb, float* y, int64_t ldy, __mmask16 mask) {
  __m512 acc[G];
#pragma GCC unroll 8
  for (int jj = 0; jj < G; ++jj) acc[jj] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i c[8];
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) c[g] = _mm512_load_si512(&panel[b].codes[g]);
    dot_block<W, G>(c, panel[b], xb[b], acc);
  }
  store_rows<G>(acc, y, ldy, mask);
}

template <typename W>
void first_group_of(int rows_in_group, bool store, Rows rows, int64_t nb, const XBlock* xb, PanelBlock* panel,
                    uint32_t* qh, float* y, int64_t ldy, __mmask16 mask) {
  switch (rows_in_group) {
    case 1: return first_group<W, 1, false>(rows, nb, xb, panel, qh, y, ldy, mask);
    case 2: return first_group<W, 2, false>(rows, nb, xb, panel, qh, y, ldy, mask);
    case 3: return first_group<W, 3, false>(rows, nb, xb, panel, qh, y, ldy, mask);
    case 4: return first_group<W, 4, false>(rows, nb, xb, panel, qh, y, ldy, mask);
    case 5: return first_group<W, 5, false>(rows, nb, xb, panel, qh, y, ldy, mask);
    case 6: return first_group<W, 6, false>(rows, nb, xb, panel, qh, y, ldy, mask);
    case 7: return first_group<W, 7, false>(rows, nb, xb, panel, qh, y, ldy, mask);
    default:
      if (store) return first_group<W, 8, true>(rows, nb, xb, panel, qh, y, ldy, mask);
      return first_group<W, 8, false>(rows, nb, xb, panel, qh, y, ldy, mask);
  }
}

template <typename W>
void stored_group_of(int rows_in_group, const PanelBlock* panel, const XBlock* xb, int64_t nb, float* y, int64_t ldy,
                     __mmask16 mask) {
  switch (rows_in_group) {
    case 1: return stored_group<W, 1>(panel, xb, nb, y, ldy, mask);
    case 2: return stored_group<W, 2>(panel, xb, nb, y, ldy, mask);
    case 3: return stored_group<W, 3>(panel, xb, nb, y, ldy, mask);
    case 4: return stored_group<W, 4>(panel, xb, nb, y, ldy, mask);
    case 5: return stored_group<W, 5>(panel, xb, nb, y, ldy, mask);
    case 6: return stored_group<W, 6>(panel, xb, nb, y, ldy, mask);
    case 7: return stored_group<W, 7>(panel, xb, nb, y, ldy, mask);
    default: return stored_group<W, 8>(panel, xb, nb, y, ldy, mask);
  }
}

// The 16 rows of the panel at i0, as Rows; a partial last panel (valid < 16 rows) is copied to
// a padded one in row order, its missing rows repeating the last (computed, never stored).
template <typename W, bool kInterleaved>
Rows panel_rows(const uint8_t* w, size_t w_stride, int64_t i0, int valid, int64_t nb) {
  constexpr size_t kBlock = sizeof(typename W::Block);
  const uint8_t* base = w + i0 * w_stride;
  const size_t row_bytes = nb * kBlock;
  if (valid == kLanes) {
    if constexpr (kInterleaved) return Rows{base, kBlock, kLanes * kBlock, true};
    return Rows{base, w_stride, kBlock, false};
  }
  if constexpr (!kInterleaved) {
    return Rows{x86::padded_panel(base, w_stride, valid, kLanes, row_bytes), row_bytes, kBlock, false};
  }
  // A partial group stores block b of row r at (b * valid + r) blocks from its start.
  auto* out = static_cast<uint8_t*>(ThreadScratch::get(Slot::kTailRows, kLanes * row_bytes));
  for (int r = 0; r < kLanes; ++r) {
    const int from = std::min(r, valid - 1);
    for (int64_t b = 0; b < nb; ++b)
      std::memcpy(out + r * row_bytes + b * kBlock, base + (b * valid + from) * kBlock, kBlock);
  }
  return Rows{out, row_bytes, kBlock, false};
}

template <typename W, bool kInterleaved = false>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n, float* y,
          int64_t ldy) {
  if (m <= 0 || n <= 0) return;
  const int64_t nb = k / 32;
  const int64_t groups = ceil_div(n, kGroup);
  // The activations for the whole call, then one panel of weights at a time.
  auto* xb = static_cast<XBlock*>(ThreadScratch::get(Slot::kActivations, groups * nb * sizeof(XBlock)));
  prepare_activations<typename W::Act, W::kOffset>(static_cast<const uint8_t*>(x), x_stride, n, nb, xb);
  const size_t panel_bytes = nb * sizeof(PanelBlock);
  auto* panel =
      static_cast<PanelBlock*>(ThreadScratch::get(Slot::kWeights, panel_bytes + nb * kLanes * sizeof(uint32_t)));
  auto* qh = reinterpret_cast<uint32_t*>(reinterpret_cast<uint8_t*>(panel) + panel_bytes);
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  for (int64_t i0 = 0; i0 < m; i0 += kLanes) {
    const int valid = static_cast<int>(std::min<int64_t>(kLanes, m - i0));
    const Rows rows = panel_rows<W, kInterleaved>(w_bytes, w_stride, i0, valid, nb);
    const auto mask = static_cast<__mmask16>((1u << valid) - 1);
    first_group_of<W>(static_cast<int>(std::min<int64_t>(kGroup, n)), groups > 1, rows, nb, xb, panel, qh, y + i0, ldy,
                      mask);
    for (int64_t g = 1; g < groups; ++g) {
      stored_group_of<W>(static_cast<int>(std::min<int64_t>(kGroup, n - g * kGroup)), panel, xb + g * nb, nb,
                         y + g * kGroup * ldy + i0, ldy, mask);
    }
  }
}

// ---- One activation row (gemv): Q4_0 and Q8_0 -----------------------------------------------

// At n = 1 the panel transposition above is paid for every block and used once. The gemv reads
// each weight row in its stored order instead, 4 blocks (a "step") per row at a time: Q4_0's
// 4 x 16 code bytes fill one vector (low nibbles elements 0-15 of each block, high nibbles
// 16-31), Q8_0's 4 x 32 two. vpdpbusd against the activation codes arranged the same way
// leaves 4 partial sums of block u in 128-bit block u of a row's vector, and 16 rows' vectors
// are summed into lanes (gemv16::sum_blocks16): lane r of out[u] is row r's integer sum of
// block u, exactly what a panel lane holds in dot_block. The offset correction and the f32
// step are then dot_block's, lane for lane and block by block, so the bits are the same.
constexpr int kStepBlocks = 4;

// Step s of the activation row, in the weights' order.
struct alignas(64) GemvX {
  __m512i codes[2];           // Q4_0: [h] elements 16h .. 16h + 15 of the 4 blocks; Q8_0: [h] blocks 2h, 2h + 1
  float d[kStepBlocks];       // [block] scale
  int32_t corr[kStepBlocks];  // [block] -offset * sum(codes), as prepare_activations
};

// Where block u of a step lies for row r of the 16: in row order a row's blocks follow one
// another; in the partial last group of an interleaved matrix (the only one the gemv sees
// there: full groups are stored dword by dword, gemm_interleaved_dwords) they are `step` bytes
// apart.
template <size_t kBlock>
struct RowOrderStep {
  const uint8_t* const* rows;  // [16] the rows' first block of the step
  [[gnu::always_inline]] const uint8_t* at(int r, int u) const { return rows[r] + u * kBlock; }
};
struct StridedStep {
  const uint8_t* const* rows;
  size_t step;
  [[gnu::always_inline]] const uint8_t* at(int r, int u) const { return rows[r] + u * step; }
};
template <typename W, typename Step>
[[gnu::always_inline]] inline __m512i gemv_row_step(const Step& step, int r, const GemvX& x) {
  using Block = typename W::Block;
  constexpr size_t kQs = offsetof(Block, qs);
  if constexpr (std::is_same_v<W, Q8_0>) {
    const __m512i sign = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512i dots[2];
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(load256(step.at(r, 2 * h) + kQs)),
                                               load256(step.at(r, 2 * h + 1) + kQs), 1);
      dots[h] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(codes, sign), x.codes[h]);
    }
    // Block u's 8 partial sums folded to 4 in 128-bit block u.
    return _mm512_add_epi32(_mm512_shuffle_i64x2(dots[0], dots[1], _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i64x2(dots[0], dots[1], _MM_SHUFFLE(3, 1, 3, 1)));
  } else {
    __m512i q = _mm512_broadcast_i32x4(load128(step.at(r, 0) + kQs));
    q = _mm512_mask_broadcast_i32x4(q, 0x00F0, load128(step.at(r, 1) + kQs));
    q = _mm512_mask_broadcast_i32x4(q, 0x0F00, load128(step.at(r, 2) + kQs));
    q = _mm512_mask_broadcast_i32x4(q, 0xF000, load128(step.at(r, 3) + kQs));
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i dots = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, low4), x.codes[0]);
    return _mm512_dpbusd_epi32(dots, _mm512_and_si512(_mm512_srli_epi16(q, 4), low4), x.codes[1]);
  }
}

// 16 rows against step s of the activations (blocks: how many of its 4 blocks exist).
template <typename W, typename Step>
[[gnu::always_inline]] inline void gemv_step(const Step& step, const GemvX& x, int blocks, __m512& acc) {
  using Block = typename W::Block;
  __m512i part[kLanes];
#pragma GCC unroll 16
  for (int r = 0; r < kLanes; ++r) part[r] = gemv_row_step<W>(step, r, x);
  // The f16 scales with scalar loads and stores, as gather_scalars (a vector gather of 16-bit
  // fields costs more than the dot products of a step).
  alignas(32) uint16_t d[kStepBlocks][kLanes];
#pragma GCC unroll 16
  for (int r = 0; r < kLanes; ++r) {
#pragma GCC unroll 4
    for (int u = 0; u < kStepBlocks; ++u) d[u][r] = reinterpret_cast<const Block*>(step.at(r, u))->d;
  }
  __m512i sums[kStepBlocks];
  gemv16::sum_blocks16(part, sums);
  for (int u = 0; u < blocks; ++u) {
    const __m512 dw = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d[u])));
    const __m512i isum = _mm512_add_epi32(sums[u], _mm512_set1_epi32(x.corr[u]));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, _mm512_set1_ps(x.d[u])), acc);
  }
}

template <typename W, bool kInterleaved>
void gemv(int64_t k, const uint8_t* w, size_t w_stride, int64_t m, const BlockQ8_0* x, float* y) {
  using Block = typename W::Block;
  constexpr size_t kStepBytes = kStepBlocks * sizeof(Block);  // one row's step
  const int64_t nb = k / 32, full_steps = nb / kStepBlocks, steps = ceil_div(nb, kStepBlocks);
  auto* xs = static_cast<GemvX*>(ThreadScratch::get(Slot::kActivations, steps * sizeof(GemvX)));
  for (int64_t s = 0; s < steps; ++s) {
    GemvX& xq = xs[s];
    auto* codes = reinterpret_cast<int8_t*>(xq.codes);
    std::memset(&xq, 0, sizeof xq);
    for (int u = 0; u < kStepBlocks && s * kStepBlocks + u < nb; ++u) {
      const BlockQ8_0& src = x[s * kStepBlocks + u];
      if constexpr (std::is_same_v<W, Q8_0>) {
        std::memcpy(codes + 32 * u, src.qs, 32);
      } else {
        std::memcpy(codes + 16 * u, src.qs, 16);
        std::memcpy(codes + 64 + 16 * u, src.qs + 16, 16);
      }
      int32_t sum = 0;
      for (int8_t q : src.qs) sum += q;
      xq.d[u] = _cvtsh_ss(src.d);
      xq.corr[u] = -W::kOffset * sum;
    }
  }
  for (int64_t i0 = 0; i0 < m; i0 += kLanes) {
    const int valid = static_cast<int>(std::min<int64_t>(kLanes, m - i0));
    const uint8_t* row_ptrs[kLanes];
    alignas(64) int32_t offsets[kLanes];
    size_t block_step = 0;  // from a row's block to its next
    gemv16::group_layout<sizeof(Block), kInterleaved>(w, w_stride, i0, m, row_ptrs, block_step, offsets);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t s = 0; s < full_steps; ++s) {
      const uint8_t* rows[kLanes];
#pragma GCC unroll 16
      for (int r = 0; r < kLanes; ++r) rows[r] = row_ptrs[r] + s * kStepBlocks * block_step;
      if constexpr (kInterleaved) {
        gemv_step<W>(StridedStep{rows, block_step}, xs[s], kStepBlocks, acc);
      } else {
        // 16 steps ahead: 18 (Q4_0) or 34 (Q8_0) KiB, within L2 and mostly L1.
        gemv16::prefetch_ahead<kStepBytes, 16>(row_ptrs, w_stride, full_steps, s);
        gemv_step<W>(RowOrderStep<sizeof(Block)>{rows}, xs[s], kStepBlocks, acc);
      }
    }
    if (steps > full_steps) {
      // The last blocks of a row (fewer than a step), copied to a zeroed step so that no load
      // runs past the matrix.
      alignas(64) uint8_t tail[kLanes][kStepBytes] = {};
      const int blocks = static_cast<int>(nb - full_steps * kStepBlocks);
      const uint8_t* rows[kLanes];
      for (int r = 0; r < kLanes; ++r) {
        for (int u = 0; u < blocks; ++u) {
          std::memcpy(tail[r] + u * sizeof(Block), row_ptrs[r] + (full_steps * kStepBlocks + u) * block_step,
                      sizeof(Block));
        }
        rows[r] = tail[r];
      }
      gemv_step<W>(RowOrderStep<sizeof(Block)>{rows}, xs[full_steps], blocks, acc);
    }
    _mm512_mask_storeu_ps(y + i0, static_cast<__mmask16>((1u << valid) - 1), acc);
  }
}

// The GemmFn of Q4_0 and Q8_0 in row order: one activation row takes the gemv, more the panels.
template <typename W, bool kInterleaved = false>
void gemm_or_gemv(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n,
                  float* y, int64_t ldy) {
  if (n != 1 || m <= 0) return gemm<W, kInterleaved>(k, w, w_stride, m, x, x_stride, n, y, ldy);
  gemv<W, kInterleaved>(k, static_cast<const uint8_t*>(w), w_stride, m, static_cast<const BlockQ8_0*>(x), y);
}

// ---- Dword-interleaved full groups: Q4_0 and Q8_0 -------------------------------------------

// In a full group of an interleaved Q4_0 or Q8_0 matrix (api.h interleaves_dwords) block b's
// step is the 16 rows' f16 d (32 bytes), then their qs, dword j of the 16 rows in 64 bytes:
// what pack and gather_scalars produce for a panel block, already in place. So every n takes
// the panel kernel's dot_block straight from the stored step, with the bits it gives there.
template <typename W>
[[gnu::always_inline]] inline void stored_block(const uint8_t* step, __m512i c[8], __m512& dw) {
  static_assert(std::is_same_v<W, Q8_0> || std::is_same_v<W, Q4_0>, "Q4_0 and Q8_0 are stored dword by dword");
  dw = _mm512_cvtph_ps(load256(step));
  const uint8_t* qs = step + interleaved_head_bytes(std::is_same_v<W, Q8_0> ? DType::kQ8_0 : DType::kQ4_0) * kLanes;
  if constexpr (std::is_same_v<W, Q8_0>) {
    const __m512i sign = _mm512_set1_epi8(static_cast<char>(0x80));
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) c[g] = _mm512_xor_si512(_mm512_loadu_si512(qs + 64 * g), sign);
  } else {
    // Dword j: elements 4j .. 4j + 3 in the low nibbles, 16 + 4j .. in the high ones.
    const __m512i low4 = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m512i v = _mm512_loadu_si512(qs + 64 * j);
      c[j] = _mm512_and_si512(v, low4);
      c[4 + j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    }
  }
}

// One full group against G activation rows (xb: their blocks, [nb]). kPrefetch (the first pass
// over a group) requests the stream a few KiB ahead into L2, as the gemv did for the
// block-by-block layout (~4.3 KiB for Q8_0, ~6.9 for Q4_0).
template <typename W, int G, bool kPrefetch, typename X>
void stored_group_dwords(const uint8_t* group, int64_t nb, const X* xb, float* y, int64_t ldy) {
  using Block = typename W::Block;
  constexpr size_t kStep = kLanes * sizeof(Block);
  constexpr int64_t kAhead = std::is_same_v<W, Q8_0> ? 8 : 24;
  __m512 acc[G];
#pragma GCC unroll 8
  for (int jj = 0; jj < G; ++jj) acc[jj] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    // Q8_0 at one column does better on the hardware prefetcher alone (8192x2048, 6 alternating
    // runs: 29-31 against 27-29 GB/s); Q4_0 there does worse without (23-30 against 27-32).
    constexpr bool kRequest = kPrefetch && (G > 1 || !std::is_same_v<W, Q8_0>);
    if constexpr (kRequest) gemv16::prefetch_ahead_interleaved<sizeof(Block), kAhead>(group, kStep, b);
    __m512i c[8];
    __m512 dw;
    stored_block<W>(group + b * kStep, c, dw);
    dot_block<W, G>(c, dw, _mm512_setzero_ps(), xb[b], acc);
  }
  store_rows<G>(acc, y, ldy, static_cast<__mmask16>(0xFFFF));
}

// f.template operator()<G>() with G = rows (1 .. kGroup): the kernels' row count as a constant.
template <typename F>
void with_group_rows(int rows, F&& f) {
  switch (rows) {
    case 1: return f.template operator()<1>();
    case 2: return f.template operator()<2>();
    case 3: return f.template operator()<3>();
    case 4: return f.template operator()<4>();
    case 5: return f.template operator()<5>();
    case 6: return f.template operator()<6>();
    case 7: return f.template operator()<7>();
    default: return f.template operator()<8>();
  }
}

// xs: the group's activation rows as XRows<rows_in_group> ([nb]).
template <typename W, bool kPrefetch>
void stored_group_dwords_of(int rows_in_group, const uint8_t* group, int64_t nb, const void* xs, float* y,
                            int64_t ldy) {
  with_group_rows(rows_in_group, [&]<int G>() {
    stored_group_dwords<W, G, kPrefetch>(group, nb, static_cast<const XRows<G>*>(xs), y, ldy);
  });
}

// Activation rows [j0, j0 + rows) (rows <= kGroup) into XRows<rows> at xs.
template <typename W>
void prepare_rows_of(int rows, const uint8_t* x, size_t x_stride, int64_t nb, void* xs) {
  static_assert(std::is_same_v<typename W::Act, BlockQ8_0>, "Q4_0 and Q8_0 take Q8_0 activations");
  with_group_rows(rows, [&]<int G>() { prepare_rows<G, W::kOffset>(x, x_stride, nb, static_cast<XRows<G>*>(xs)); });
}

// The GemmFn of interleaved Q4_0 and Q8_0: full groups from their stored steps, kGroup
// activation rows per pass (later passes read the group from L1 or L2: 34 KiB of Q8_0 at
// k = 2048); the last group, if partial, as before.
template <typename W>
void gemm_interleaved_dwords(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride,
                             int64_t n, float* y, int64_t ldy) {
  if (m <= 0 || n <= 0) return;
  const int64_t nb = k / 32, groups = ceil_div(n, kGroup), full = m / kLanes * kLanes;
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  if (full > 0) {
    // Each group of kGroup activation rows gets room for XRows<kGroup>; a partial last group
    // holds XRows<its rows> there.
    const size_t per_group = nb * sizeof(XRows<kGroup>);
    auto* xs = static_cast<uint8_t*>(ThreadScratch::get(Slot::kActivations, groups * per_group));
    const auto rows_of = [&](int64_t g) { return static_cast<int>(std::min<int64_t>(kGroup, n - g * kGroup)); };
    const auto* x_bytes = static_cast<const uint8_t*>(x);
    for (int64_t g = 0; g < groups; ++g)
      prepare_rows_of<W>(rows_of(g), x_bytes + g * kGroup * x_stride, x_stride, nb, xs + g * per_group);
    for (int64_t i0 = 0; i0 < full; i0 += kLanes) {
      const uint8_t* group = w_bytes + i0 * w_stride;
      for (int64_t g = 0; g < groups; ++g) {
        if (g == 0) {
          stored_group_dwords_of<W, true>(rows_of(g), group, nb, xs, y + i0, ldy);
        } else {
          stored_group_dwords_of<W, false>(rows_of(g), group, nb, xs + g * per_group, y + g * kGroup * ldy + i0, ldy);
        }
      }
    }
  }
  if (full < m) gemm_or_gemv<W, true>(k, w_bytes + full * w_stride, w_stride, m - full, x, x_stride, n, y + full, ldy);
}

}  // namespace

void register_quant_gemm(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_0)] = gemm_or_gemv<Q4_0>;
  t.gemm[static_cast<uint32_t>(DType::kQ4_1)] = gemm<Q4_1>;
  t.gemm[static_cast<uint32_t>(DType::kQ5_0)] = gemm<Q5_0>;
  t.gemm[static_cast<uint32_t>(DType::kQ5_1)] = gemm<Q5_1>;
  t.gemm[static_cast<uint32_t>(DType::kQ8_0)] = gemm_or_gemv<Q8_0>;
  t.gemm[static_cast<uint32_t>(DType::kIQ4_NL)] = gemm<IQ4_NL>;
  t.gemm[static_cast<uint32_t>(DType::kMXFP4)] = gemm<MXFP4>;
  // Interleaved weights (api.h kInterleaveRows): every format here reads either layout (Q4_0
  // and Q8_0 their full groups dword by dword, api.h interleaves_dwords).
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ4_0)] = gemm_interleaved_dwords<Q4_0>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ4_1)] = gemm<Q4_1, true>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ5_0)] = gemm<Q5_0, true>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ5_1)] = gemm<Q5_1, true>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kQ8_0)] = gemm_interleaved_dwords<Q8_0>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kIQ4_NL)] = gemm<IQ4_NL, true>;
  t.gemm_interleaved[static_cast<uint32_t>(DType::kMXFP4)] = gemm<MXFP4, true>;
}

}  // namespace corral::kernels::avx512

#pragma GCC diagnostic pop
#pragma GCC pop_options
