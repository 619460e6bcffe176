// AVX-512 row conversions of the 32-element quants: the Q8_0 / Q8_1 activation quantizers
// (byte-identical to generic/q8.cc) and the dequantizers of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and
// Q8_1 (bit-identical to generic: the same products and sums, each rounded once).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "base/fp16.h"
#include "kernels/x86/avx512/legacy.h"
#include "tensor/blocks.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")
// GCC 12's intrinsics pass `_mm512_undefined_*()` (a self-initialised variable) as the unused
// merge source of unmasked operations, which -W(maybe-)uninitialized reports once inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace corral::kernels::avx512 {
namespace {

// The int8 code static_cast<int8_t>(std::round(v)) gives on x86, as generic computes it.
// roundf rounds halves away from zero, which no SIMD rounding mode does: truncate (in float,
// so infinities and NaN stay what they are) and step one away from zero when the dropped
// fraction (exact) is at least one half. Then float -> int32 conversion as the scalar cast does
// it (out of range or NaN: 0x80000000) and truncation to the low byte as the int8 cast does.
// Only a block whose scale is subnormal sees such values (1 / d overflows), and there the
// reference's codes are 0; everywhere else |v| <= 127 and this is plain rounding.
__m128i round_to_code(__m512 v) {
  __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_sub_ps(v, r);
  const __m512 one = _mm512_set1_ps(1.0f);
  r = _mm512_mask_add_ps(r, _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ), r, one);
  r = _mm512_mask_sub_ps(r, _mm512_cmp_ps_mask(frac, _mm512_set1_ps(-0.5f), _CMP_LE_OQ), r, one);
  return _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(r));
}

// As generic quantize_block_of_32: d = amax / 127, codes roundf(x * (1 / d)). Writes the
// codes, returns d; *sum gets the sum of the codes.
float quantize_block_of_32(const float* x, int8_t* qs, int* sum) {
  const __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
  // max_ps returns its second operand when either is NaN: with the running maximum second, a
  // NaN element is skipped exactly as std::max(amax, NaN) skips it in the reference.
  __m512 amax = _mm512_max_ps(_mm512_abs_ps(a), _mm512_setzero_ps());
  amax = _mm512_max_ps(_mm512_abs_ps(b), amax);
  const float d = _mm512_reduce_max_ps(amax) / 127;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  const __m512 vid = _mm512_set1_ps(id);
  const __m128i qa = round_to_code(_mm512_mul_ps(a, vid));
  const __m128i qb = round_to_code(_mm512_mul_ps(b, vid));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), qa);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), qb);
  *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_cvtepi8_epi32(qa), _mm512_cvtepi8_epi32(qb)));
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

// Codes of elements 0..15 and 16..31 of a nibble block (low, then high nibbles of qs).
void nibble_codes(const uint8_t* qs, __m512i* lo, __m512i* hi) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i low4 = _mm_set1_epi8(0x0F);
  *lo = _mm512_cvtepu8_epi32(_mm_and_si128(q, low4));
  *hi = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(q, 4), low4));
}

// Adds 16 to the codes whose bit is set in the block's qh (element e: bit e).
void add_high_bits(const uint8_t* qh, __m512i* lo, __m512i* hi) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof bits);
  const __m512i sixteen = _mm512_set1_epi32(16);
  *lo = _mm512_mask_add_epi32(*lo, static_cast<__mmask16>(bits), *lo, sixteen);
  *hi = _mm512_mask_add_epi32(*hi, static_cast<__mmask16>(bits >> 16), *hi, sixteen);
}

// dst[0..32) = (code - offset) * d: the integer difference converts exactly.
void store_offset(__m512i lo, __m512i hi, int offset, float d, float* dst) {
  const __m512i off = _mm512_set1_epi32(offset);
  const __m512 vd = _mm512_set1_ps(d);
  _mm512_storeu_ps(dst, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(lo, off)), vd));
  _mm512_storeu_ps(dst + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(hi, off)), vd));
}

// dst[0..32) = code * d + m, rounded after the product and after the sum as the reference.
void store_min(__m512i lo, __m512i hi, float d, float m, float* dst) {
  const __m512 vd = _mm512_set1_ps(d), vm = _mm512_set1_ps(m);
  _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(lo), vd), vm));
  _mm512_storeu_ps(dst + 16, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(hi), vd), vm));
}

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    __m512i lo, hi;
    nibble_codes(blocks[b].qs, &lo, &hi);
    store_offset(lo, hi, 8, _cvtsh_ss(blocks[b].d), dst + b * kQK4_0);
  }
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    __m512i lo, hi;
    nibble_codes(blocks[b].qs, &lo, &hi);
    store_min(lo, hi, _cvtsh_ss(blocks[b].d), _cvtsh_ss(blocks[b].m), dst + b * kQK4_1);
  }
}

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    __m512i lo, hi;
    nibble_codes(blocks[b].qs, &lo, &hi);
    add_high_bits(blocks[b].qh, &lo, &hi);
    store_offset(lo, hi, 16, _cvtsh_ss(blocks[b].d), dst + b * kQK5_0);
  }
}

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    __m512i lo, hi;
    nibble_codes(blocks[b].qs, &lo, &hi);
    add_high_bits(blocks[b].qh, &lo, &hi);
    store_min(lo, hi, _cvtsh_ss(blocks[b].d), _cvtsh_ss(blocks[b].m), dst + b * kQK5_1);
  }
}

void store_q8(const int8_t* qs, float d, float* dst) {
  const __m512 vd = _mm512_set1_ps(d);
  const __m512i lo = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m512i hi = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + 16)));
  _mm512_storeu_ps(dst, _mm512_mul_ps(_mm512_cvtepi32_ps(lo), vd));
  _mm512_storeu_ps(dst + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(hi), vd));
}

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / kQK8_0; ++b) { store_q8(blocks[b].qs, _cvtsh_ss(blocks[b].d), dst + b * kQK8_0); }
}

void dequantize_q8_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(src);
  for (int64_t b = 0; b < n / kQK8_1; ++b) { store_q8(blocks[b].qs, _cvtsh_ss(blocks[b].d), dst + b * kQK8_1); }
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

}  // namespace corral::kernels::avx512

#pragma GCC diagnostic pop
#pragma GCC pop_options
