// AVX2 row conversions of the 32-element quants: the Q8_0 / Q8_1 activation quantizers
// (byte-identical to generic/q8.cc) and the dequantizers of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and
// Q8_1 (bit-identical to generic: the same products and sums, each rounded once).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "base/fp16.h"
#include "kernels/x86/avx2/legacy.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels::avx2 {
namespace {

// Loops over register arrays carry `#pragma GCC unroll`: at -O2 GCC leaves short fixed-count
// loops rolled, which keeps the arrays in memory instead of registers.

float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// static_cast<int8_t>(std::round(v)) as generic computes it on x86, as int32 lanes whose low
// byte is the code. roundf rounds halves away from zero, which no SIMD rounding mode does:
// truncate (in float, so infinities and NaN stay what they are) and step one away from zero
// when the dropped fraction (exact) is at least one half; then float -> int32 conversion as the
// scalar cast does it (out of range or NaN: 0x80000000). Only a block whose scale is subnormal
// sees such values (1 / d overflows); everywhere else |v| <= 127 and this is plain rounding.
__m256i round_to_code(__m256 v) {
  __m256 r = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_sub_ps(v, r);
  const __m256 one = _mm256_set1_ps(1.0f);
  r = _mm256_add_ps(r, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one));
  r = _mm256_sub_ps(r, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(-0.5f), _CMP_LE_OQ), one));
  return _mm256_cvttps_epi32(r);
}

// As generic quantize_block_of_32: d = amax / 127, codes roundf(x * (1 / d)). Writes the
// codes, returns d; *sum gets the sum of the codes.
float quantize_block_of_32(const float* x, int8_t* qs, int* sum) {
  __m256 v[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_ps(x + 8 * i);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  // max_ps returns its second operand when either is NaN: with the running maximum second, a
  // NaN element is skipped exactly as std::max(amax, NaN) skips it in the reference.
  __m256 amax = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) amax = _mm256_max_ps(_mm256_and_ps(v[i], abs_mask), amax);
  const float d = hmax(amax) / 127;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  __m256i q[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) q[i] = round_to_code(_mm256_mul_ps(v[i], _mm256_set1_ps(id)));
  // Keep each lane's low byte (the int8 cast truncates), then pack: values 0..255 pass both
  // packs unchanged, which interleave 128-bit lanes; the permute restores element order.
  const __m256i low8 = _mm256_set1_epi32(0xFF);
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) q[i] = _mm256_and_si256(q[i], low8);
  const __m256i packed =
      _mm256_permutevar8x32_epi32(_mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]), _mm256_packus_epi32(q[2], q[3])),
                                  _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), packed);
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_set1_epi8(1), packed);
  const __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(quads), _mm256_extracti128_si256(quads, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  *sum = _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 1)));
  return d;
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int sum;
    blocks[b].d = f32_to_fp16(quantize_block_of_32(src + b * kQK8_0, blocks[b].qs, &sum));
  }
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(dst);
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    int sum;
    const float d = quantize_block_of_32(src + b * kQK8_1, blocks[b].qs, &sum);
    blocks[b].d = f32_to_fp16(d);
    blocks[b].s = f32_to_fp16(static_cast<float>(sum) * d);  // with the f32 d, as ggml
  }
}

// ---- Dequantizers --------------------------------------------------------------------------

// The 32 codes of a block as int32, elements 8i..8i+7 in c[i]: low nibbles then high ones.
void nibble_codes(const uint8_t* qs, __m256i c[4]) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i low4 = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(q, low4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), low4);
  c[0] = _mm256_cvtepu8_epi32(lo);
  c[1] = _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8));
  c[2] = _mm256_cvtepu8_epi32(hi);
  c[3] = _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8));
}

// Adds 16 to the codes whose bit is set in qh (element e: bit e).
void add_high_bits(const uint8_t* qh, __m256i c[4]) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof bits);
  const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m256i mine = _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits >> (8 * i))), lane_bit);
    const __m256i set = _mm256_cmpeq_epi32(mine, lane_bit);
    c[i] = _mm256_add_epi32(c[i], _mm256_and_si256(set, _mm256_set1_epi32(16)));
  }
}

// dst[0..32) = (code - offset) * d: the integer difference converts exactly.
void store_offset(const __m256i c[4], int offset, float d, float* dst) {
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(c[i], _mm256_set1_epi32(offset)));
    _mm256_storeu_ps(dst + 8 * i, _mm256_mul_ps(v, _mm256_set1_ps(d)));
  }
}

// dst[0..32) = code * d + m, rounded after the product and after the sum as the reference.
void store_min(const __m256i c[4], float d, float m, float* dst) {
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(c[i]), _mm256_set1_ps(d));
    _mm256_storeu_ps(dst + 8 * i, _mm256_add_ps(v, _mm256_set1_ps(m)));
  }
}

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    __m256i c[4];
    nibble_codes(blocks[b].qs, c);
    store_offset(c, 8, _cvtsh_ss(blocks[b].d), dst + b * kQK4_0);
  }
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    __m256i c[4];
    nibble_codes(blocks[b].qs, c);
    store_min(c, _cvtsh_ss(blocks[b].d), _cvtsh_ss(blocks[b].m), dst + b * kQK4_1);
  }
}

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    __m256i c[4];
    nibble_codes(blocks[b].qs, c);
    add_high_bits(blocks[b].qh, c);
    store_offset(c, 16, _cvtsh_ss(blocks[b].d), dst + b * kQK5_0);
  }
}

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    __m256i c[4];
    nibble_codes(blocks[b].qs, c);
    add_high_bits(blocks[b].qh, c);
    store_min(c, _cvtsh_ss(blocks[b].d), _cvtsh_ss(blocks[b].m), dst + b * kQK5_1);
  }
}

void store_q8(const int8_t* qs, float d, float* dst) {
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m256i c = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs + 8 * i)));
    _mm256_storeu_ps(dst + 8 * i, _mm256_mul_ps(_mm256_cvtepi32_ps(c), _mm256_set1_ps(d)));
  }
}

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / kQK8_0; ++b) store_q8(blocks[b].qs, _cvtsh_ss(blocks[b].d), dst + b * kQK8_0);
}

void dequantize_q8_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(src);
  for (int64_t b = 0; b < n / kQK8_1; ++b) store_q8(blocks[b].qs, _cvtsh_ss(blocks[b].d), dst + b * kQK8_1);
}

}  // namespace

void register_quant_rows(KernelTable& t) {
  t.quantize_row[static_cast<uint32_t>(DType::kQ8_0)] = quantize_q8_0;
  t.quantize_row[static_cast<uint32_t>(DType::kQ8_1)] = quantize_q8_1;
  t.dequantize_row[static_cast<uint32_t>(DType::kQ4_0)] = dequantize_q4_0;
  t.dequantize_row[static_cast<uint32_t>(DType::kQ4_1)] = dequantize_q4_1;
  t.dequantize_row[static_cast<uint32_t>(DType::kQ5_0)] = dequantize_q5_0;
  t.dequantize_row[static_cast<uint32_t>(DType::kQ5_1)] = dequantize_q5_1;
  t.dequantize_row[static_cast<uint32_t>(DType::kQ8_0)] = dequantize_q8_0;
  t.dequantize_row[static_cast<uint32_t>(DType::kQ8_1)] = dequantize_q8_1;
}

}  // namespace corral::kernels::avx2

#pragma GCC pop_options
