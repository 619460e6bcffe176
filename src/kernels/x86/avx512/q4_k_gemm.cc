// AVX-512 VNNI gemm for Q4_K weights (the type of most Llama Q4_K_M matrices), with 16 weight
// rows in the 16 lanes of every vector.
//
// A group of 16 rows is rearranged once per call (Rows16Block, per super-block): the packed
// codes are transposed so that lane r of each vector holds 4 codes of row r, then split into
// nibbles. vpdpbusd multiplies such a vector by 4 activation codes broadcast from memory (the
// instruction's embedded broadcast), so one instruction does 4 codes x 16 rows. Four of them
// fill a lane with the 16 products of a half sub-block, whose sum fits in 16 bits (|sum| <=
// 16 * 15 * 128 < 2^15); one vpdpwssd with the scale in the low half of each 32-bit lane (0 in
// the high half, which holds only the sum's sign) scales and accumulates it exactly. The mins
// meet the activations' bsums (summed per sub-block) through 4 more vpdpwssd, and each
// super-block ends with two conversions and FMAs by d_w * d_x and -dmin_w * d_x.
//
// Per weight row, activation row and super-block that is ~5.6 instructions, against ~10 for
// the layout with rows in element order (kquant_engine.h), and nothing is reduced across
// lanes: lane r is output r. Every output goes through the same operations whatever rows
// share its group, so results do not depend on how m and n are split.
#include "kernels/x86/avx512/kquant_engine.h"  // first: it includes <immintrin.h>

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/x86/kquant_common.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")

namespace corral::kernels {
namespace {

constexpr int kLanes = 16;  // weight rows per group

// Activation rows per pass over a group: 3 registers each (half-sub-block sums, scaled sums,
// f32 result) plus a code vector fit 32 registers with 8.
constexpr int kGroupCols = 8;

// One super-block of 16 weight rows, lane r = row r.
struct Rows16Block {
  // [sub-block s][half h][g]: 4 codes (u8) of elements 32s + 16h + 4g .. + 3.
  __m512i codes[64];
  __m512i scales[8];  // [s]: scale as int32 (high 16 bits zero)
  __m512i mins[4];    // [q]: mins of sub-blocks 2q and 2q + 1 as an int16 pair
  __m512 d, dmin;
};

// Per activation row and super-block: bsums summed per 32-element sub-block (|sum| <= 4096,
// int16), and d_x.
struct ActivationSums {
  int16_t pairs[8];
  float d;
  float neg_d;
  uint64_t padding;
};
static_assert(sizeof(ActivationSums) == 32);

// 16x16 transpose of 32-bit lanes: v[r] lane c -> v[c] lane r.
inline void transpose16(__m512i* v) {
  __m512i t[16], u[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
  }
  // u[4i + j], 128-bit block k: column 4k + j of rows 4i..4i+3.
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512i in[4] = {u[j], u[4 + j], u[8 + j], u[12 + j]};
    __m512i out[4];
    transpose_blocks(in, out);  // out[k] = column 4k + j
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) v[4 * k + j] = out[k];
  }
}

// vpshufb control that puts byte `first` of each 32-bit lane in its byte 0 and byte `second`
// (if >= 0) in its byte 2, zeroing the rest: one byte as an int32, or two as an int16 pair.
// vpshufb indexes bytes within 128-bit blocks, so lane p of a block reads byte 4p + first.
inline __m512i byte_to_lane_bottom(int first, int second) {
  int32_t lane[4];
  for (int p = 0; p < 4; ++p) {
    const uint32_t hi = second < 0 ? 0x80u : static_cast<uint32_t>(4 * p + second);
    lane[p] = static_cast<int32_t>(static_cast<uint32_t>(4 * p + first) | 0x80u << 8 | hi << 16 |
                                   0x80u << 24);
  }
  return _mm512_set4_epi32(lane[3], lane[2], lane[1], lane[0]);
}

// Rearranges super-block b of rows[0..15] (rows past the matrix repeat row 0).
void prepare_rows(const uint8_t* const* rows, const __m512i& row_offsets, int64_t b,
                  Rows16Block& out) {
  const size_t at = static_cast<size_t>(b) * sizeof(BlockQ4_K);
  // qs: each row's 32 dwords, transposed 16 at a time. Dword i of qs holds codes of elements
  // 64(i / 8) + 4(i % 8) + 0..3 (low nibbles) and the same + 32 (high nibbles): with
  // i = 8t + 4h + g those are sub-block 2t (low) and 2t + 1 (high), half h, group g.
  for (int part = 0; part < 2; ++part) {
    __m512i q[kLanes];
#pragma GCC unroll 16
    for (int r = 0; r < kLanes; ++r) {
      q[r] = _mm512_loadu_si512(rows[r] + at + offsetof(BlockQ4_K, qs) + 64 * part);
    }
    transpose16(q);
    const __m512i nibble = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 16
    for (int d = 0; d < kLanes; ++d) {
      const int i = 16 * part + d, t = i / 8, hg = i % 8;
      out.codes[(2 * t) * 8 + hg] = _mm512_and_si512(q[d], nibble);
      out.codes[(2 * t + 1) * 8 + hg] = _mm512_and_si512(_mm512_srli_epi16(q[d], 4), nibble);
    }
  }
  // Scales and mins of all 16 rows at once: the 12 packed bytes as three gathered words per
  // row, unpacked as kquant::unpack_k4_scales does for one row, then byte s of the scale words
  // (or bytes 2q, 2q + 1 of the min words) moved to the bottom of each lane by vpshufb.
  const uint8_t* base = rows[0] + at;
  const __m512i a = _mm512_i32gather_epi32(row_offsets, base + offsetof(BlockQ4_K, scales), 1);
  const __m512i b4 = _mm512_i32gather_epi32(row_offsets, base + offsetof(BlockQ4_K, scales) + 4, 1);
  const __m512i c = _mm512_i32gather_epi32(row_offsets, base + offsetof(BlockQ4_K, scales) + 8, 1);
  const __m512i six_bits = _mm512_set1_epi32(0x3F3F3F3F), low4 = _mm512_set1_epi32(0x0F0F0F0F),
                bits45 = _mm512_set1_epi32(0x30303030);
  const __m512i scale_words[2] = {
      _mm512_and_si512(a, six_bits),
      _mm512_or_si512(_mm512_and_si512(c, low4), _mm512_and_si512(_mm512_srli_epi32(a, 2), bits45))};
  const __m512i min_words[2] = {
      _mm512_and_si512(b4, six_bits),
      _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), low4),
                      _mm512_and_si512(_mm512_srli_epi32(b4, 2), bits45))};
#pragma GCC unroll 8
  for (int s = 0; s < 8; ++s) {
    out.scales[s] = _mm512_shuffle_epi8(scale_words[s / 4], byte_to_lane_bottom(s % 4, -1));
  }
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    out.mins[q] = _mm512_shuffle_epi8(min_words[q / 2], byte_to_lane_bottom(2 * (q % 2), 2 * (q % 2) + 1));
  }
  const __m512i d_dmin = _mm512_i32gather_epi32(row_offsets, base, 1);  // (d, dmin) f16 pairs
  out.d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d_dmin));
  out.dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(d_dmin, 16)));
}

inline __m512i broadcast_4_bytes(const void* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm512_set1_epi32(v);
}

// acc[c] += the contribution of super-block `blk` to the 16 rows' dots with activation row c.
template <int C>
inline void group_times_block(const Rows16Block& blk, const int8_t* const* qs /*[C]*/,
                              const ActivationSums* const* sums /*[C]*/, __m512* acc) {
  __m512i isum[C];
#pragma GCC unroll 8
  for (int s = 0; s < 8; ++s) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m512i half[C];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) half[c] = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m512i w = blk.codes[s * 8 + h * 4 + g];
        const int offset = 32 * s + 16 * h + 4 * g;
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          half[c] = _mm512_dpbusd_epi32(half[c], w, broadcast_4_bytes(qs[c] + offset));
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        isum[c] = s == 0 && h == 0 ? _mm512_madd_epi16(half[c], blk.scales[s])
                                   : _mm512_dpwssd_epi32(isum[c], half[c], blk.scales[s]);
      }
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) {
    __m512i msum = _mm512_madd_epi16(blk.mins[0], broadcast_4_bytes(sums[c]->pairs));
#pragma GCC unroll 3
    for (int q = 1; q < 4; ++q) {
      msum = _mm512_dpwssd_epi32(msum, blk.mins[q], broadcast_4_bytes(sums[c]->pairs + 2 * q));
    }
    acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]),
                             _mm512_mul_ps(blk.d, _mm512_set1_ps(sums[c]->d)), acc[c]);
    acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum),
                             _mm512_mul_ps(blk.dmin, _mm512_set1_ps(sums[c]->neg_d)), acc[c]);
  }
}

// acc[c] (16 lanes: the group's rows) += activation row c's products with `count` prepared
// super-blocks; sums is [C][n_blocks], already offset to the first of them.
template <int C>
void group_times_rows(int64_t count, const Rows16Block* blocks, const uint8_t* x, size_t x_stride,
                      const ActivationSums* sums, int64_t n_blocks, __m512* acc_io) {
  __m512 acc[C];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) acc[c] = acc_io[c];
  for (int64_t b = 0; b < count; ++b) {
    const int8_t* qs[C];
    const ActivationSums* s[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      qs[c] = (reinterpret_cast<const BlockQ8_K*>(x + c * x_stride) + b)->qs;
      s[c] = sums + c * n_blocks + b;
    }
    group_times_block<C>(blocks[b], qs, s, acc);
  }
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) acc_io[c] = acc[c];
}

void group_times_rows_any(int cols, int64_t count, const Rows16Block* blocks, const uint8_t* x,
                          size_t x_stride, const ActivationSums* sums, int64_t n_blocks,
                          __m512* acc) {
  switch (cols) {
    case 1: return group_times_rows<1>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 2: return group_times_rows<2>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 3: return group_times_rows<3>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 4: return group_times_rows<4>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 5: return group_times_rows<5>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 6: return group_times_rows<6>(count, blocks, x, x_stride, sums, n_blocks, acc);
    case 7: return group_times_rows<7>(count, blocks, x, x_stride, sums, n_blocks, acc);
    default: return group_times_rows<8>(count, blocks, x, x_stride, sums, n_blocks, acc);
  }
}

// Super-blocks of a group prepared at a time: 4 x 5 KiB stay in L1 while every activation
// row uses them (preparing all of k first costs 20% at k = 8192, where it spills to L2).
constexpr int64_t kChunkBlocks = 4;

// Per-thread scratch, grown to the largest call seen and 64-byte aligned: the prepared chunk
// ([kChunkBlocks]), accumulators ([n]) and the activation sums ([n][n_blocks]), the 64-byte
// items first so all stay aligned.
struct GroupScratch {
  Rows16Block* blocks;
  ActivationSums* sums;
  __m512* acc;
};

GroupScratch group_scratch(int64_t n, int64_t n_blocks) {
  thread_local std::vector<uint8_t> storage;
  const size_t bytes = sizeof(Rows16Block) * kChunkBlocks +
                       sizeof(ActivationSums) * n * n_blocks + sizeof(__m512) * n + 64;
  if (storage.size() < bytes) storage.resize(bytes);
  const auto address = (reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t{63};
  auto* blocks = reinterpret_cast<Rows16Block*>(address);
  auto* acc = reinterpret_cast<__m512*>(blocks + kChunkBlocks);
  return {blocks, reinterpret_cast<ActivationSums*>(acc + n), acc};
}

void gemm_q4_k(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x,
               size_t x_stride, int64_t n, float* y, int64_t ldy) {
  const int64_t n_blocks = k / kQK_K;
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* x_bytes = static_cast<const uint8_t*>(x);
  const GroupScratch s = group_scratch(n, n_blocks);
  for (int64_t j = 0; j < n; ++j) {
    const auto* row = reinterpret_cast<const BlockQ8_K*>(x_bytes + j * x_stride);
    for (int64_t b = 0; b < n_blocks; ++b) {
      ActivationSums& a = s.sums[j * n_blocks + b];
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[b].bsums));
      const __m256i pairs = _mm256_madd_epi16(bsums, _mm256_set1_epi16(1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(a.pairs), _mm256_cvtepi32_epi16(pairs));
      a.d = row[b].d;
      a.neg_d = -row[b].d;
      a.padding = 0;
    }
  }
  for (int64_t i0 = 0; i0 < m; i0 += kLanes) {
    const int rows = static_cast<int>(std::min<int64_t>(kLanes, m - i0));
    const uint8_t* row_ptrs[kLanes];
    alignas(64) int32_t offsets[kLanes];
    for (int r = 0; r < kLanes; ++r) {
      const int row = r < rows ? r : 0;  // rows past the matrix repeat row 0; not stored
      row_ptrs[r] = w_bytes + (i0 + row) * w_stride;
      offsets[r] = static_cast<int32_t>(row * w_stride);
    }
    const __m512i row_offsets = _mm512_load_si512(offsets);
    for (int64_t j = 0; j < n; ++j) s.acc[j] = _mm512_setzero_ps();
    for (int64_t b0 = 0; b0 < n_blocks; b0 += kChunkBlocks) {
      const int64_t count = std::min(kChunkBlocks, n_blocks - b0);
      for (int64_t b = 0; b < count; ++b) prepare_rows(row_ptrs, row_offsets, b0 + b, s.blocks[b]);
      for (int64_t j0 = 0; j0 < n; j0 += kGroupCols) {
        const int cols = static_cast<int>(std::min<int64_t>(kGroupCols, n - j0));
        group_times_rows_any(cols, count, s.blocks,
                             x_bytes + j0 * x_stride + b0 * sizeof(BlockQ8_K), x_stride,
                             s.sums + j0 * n_blocks + b0, n_blocks, s.acc + j0);
      }
    }
    const __mmask16 lanes = static_cast<__mmask16>((1u << rows) - 1);
    for (int64_t j = 0; j < n; ++j) _mm512_mask_storeu_ps(y + j * ldy + i0, lanes, s.acc[j]);
  }
}

}  // namespace

void register_avx512_q4_k_gemm(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_K)] = gemm_q4_k;
}

}  // namespace corral::kernels

#pragma GCC pop_options
