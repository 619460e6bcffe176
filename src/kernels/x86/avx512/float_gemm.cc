// AVX-512 gemm for unquantized weights (F32, F16, BF16) with f32 activations, and the F16 /
// BF16 row decoders.
//
// Weights are widened to f32 on the fly (vcvtph2ps; BF16 is the top half of an f32, so a zero
// extension and a shift) and multiplied with f32 FMAs. Activations stay f32: AVX512-BF16's
// vdpbf16ps would round them to BF16 and change the numerics.
//
// Tiles of up to 6 weight rows x 4 activation rows keep 24 accumulators in registers, so each
// loaded (and converted) weight vector serves 4 products and each activation vector 6: the
// activations, re-read from L2 for every band of weight rows, are the scarcer bandwidth
// (measured at n = 64: 4x4 tiles 90 GFLOP/s per core on F32, 6x4 106, 8x3 62 as its band of
// weight rows no longer fits L1).
// Every (row, token) pair owns one accumulator whose lane l sums elements c = l (mod 16) in
// increasing c, the tail masked, and is reduced by the same fixed tree: the bits of an output
// do not depend on the tile shape that computed it (matmul.h's determinism).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/avx512/legacy.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,bmi2")
// GCC 12's intrinsics pass `_mm512_undefined_*()` (a self-initialised variable) as the unused
// merge source of unmasked operations, which -W(maybe-)uninitialized reports once inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace corral::kernels::avx512 {
namespace {

// Loops over register arrays carry `#pragma GCC unroll`: at -O2 GCC leaves short fixed-count
// loops rolled, which keeps the arrays in memory instead of registers.

constexpr int kTileRows = 6;    // weight rows per tile
constexpr int kTileTokens = 4;  // activation rows per tile

// 16 weights from p as f32; `mask` selects the elements that exist (the row's tail).
struct F32 {
  using Elem = float;
  static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 load(const float* p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }
};
struct F16 {
  using Elem = uint16_t;
  static __m512 load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load(const uint16_t* p, __mmask16 mask) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p)); }
};
struct BF16 {
  using Elem = uint16_t;
  static __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
  static __m512 load(const uint16_t* p) { return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static __m512 load(const uint16_t* p, __mmask16 mask) { return widen(_mm256_maskz_loadu_epi16(mask, p)); }
};

// The one reduction order every output uses: halves, then quarters, ..., then the last pair.
float reduce(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  b = _mm_add_ps(b, _mm_movehl_ps(b, b));
  b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
  return _mm_cvtss_f32(b);
}

// y[j * ldy + i] for R weight rows (w_stride bytes apart) and C activation rows.
template <typename W, int R, int C>
void tile(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* x, size_t x_stride, float* y, int64_t ldy) {
  using Elem = typename W::Elem;
  const Elem* wr[R];
  const float* xr[C];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) wr[i] = reinterpret_cast<const Elem*>(w + i * w_stride);
#pragma GCC unroll 16
  for (int j = 0; j < C; ++j) xr[j] = reinterpret_cast<const float*>(x + j * x_stride);
  __m512 acc[R][C];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  int64_t c = 0;
  for (; c + 16 <= k; c += 16) {
    __m512 xv[C];
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) xv[j] = _mm512_loadu_ps(xr[j] + c);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 wv = W::load(wr[i] + c);
#pragma GCC unroll 16
      for (int j = 0; j < C; ++j) acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
  if (c < k) {
    // Masked-off lanes load as zeros and add 0 * 0: every tile takes this same last step.
    const auto mask = static_cast<__mmask16>((1u << (k - c)) - 1);
    __m512 xv[C];
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) xv[j] = _mm512_maskz_loadu_ps(mask, xr[j] + c);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 wv = W::load(wr[i] + c, mask);
#pragma GCC unroll 16
      for (int j = 0; j < C; ++j) acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) y[j * ldy + i] = reduce(acc[i][j]);
  }
}

// All tokens of a band of R weight rows: full tiles of kTileTokens, then the remainder.
template <typename W, int R>
void row_band(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* x, size_t x_stride, int64_t n, float* y,
              int64_t ldy) {
  int64_t j = 0;
  for (; j + kTileTokens <= n; j += kTileTokens) {
    tile<W, R, kTileTokens>(k, w, w_stride, x + j * x_stride, x_stride, y + j * ldy, ldy);
  }
  const uint8_t* xj = x + j * x_stride;
  float* yj = y + j * ldy;
  switch (n - j) {
    case 1: return tile<W, R, 1>(k, w, w_stride, xj, x_stride, yj, ldy);
    case 2: return tile<W, R, 2>(k, w, w_stride, xj, x_stride, yj, ldy);
    case 3: return tile<W, R, 3>(k, w, w_stride, xj, x_stride, yj, ldy);
    default: return;
  }
}

template <typename W>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n, float* y,
          int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* xb = static_cast<const uint8_t*>(x);
  int64_t i = 0;
  // Weight rows outermost: a band's rows stay in L1/L2 while every token passes them.
  for (; i + kTileRows <= m; i += kTileRows) {
    row_band<W, kTileRows>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
  }
  switch (m - i) {
    case 1: return row_band<W, 1>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
    case 2: return row_band<W, 2>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
    case 3: return row_band<W, 3>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
    case 4: return row_band<W, 4>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
    case 5: return row_band<W, 5>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
    default: return;
  }
}

// Row decoders: every F16 and BF16 value is exactly an f32.
template <typename W>
void dequantize(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, W::load(h + i));
  if (i < n) {
    const auto mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(dst + i, mask, W::load(h + i, mask));
  }
}

}  // namespace

void register_float_gemm(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kF32)] = gemm<F32>;
  t.gemm[static_cast<uint32_t>(DType::kF16)] = gemm<F16>;
  t.gemm[static_cast<uint32_t>(DType::kBF16)] = gemm<BF16>;
  t.dequantize_row[static_cast<uint32_t>(DType::kF16)] = dequantize<F16>;
  t.dequantize_row[static_cast<uint32_t>(DType::kBF16)] = dequantize<BF16>;
}

}  // namespace corral::kernels::avx512

#pragma GCC diagnostic pop
#pragma GCC pop_options
