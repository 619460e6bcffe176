// AVX2 gemm for unquantized weights (F32, F16, BF16) with f32 activations, and the F16 /
// BF16 row decoders. The AVX-512 kernel's scheme on 8 lanes (x86/avx512/float_gemm.cc): weights
// widened on the fly, f32 FMAs, one accumulator per (row, token) summing elements c = l (mod 8)
// in lane l in increasing c, reduced by one fixed tree, so tiles never change the bits.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2/legacy.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi2")

namespace corral::kernels::avx2 {
namespace {

// Loops over register arrays carry `#pragma GCC unroll`: at -O2 GCC leaves short fixed-count
// loops rolled, which keeps the arrays in memory instead of registers.

// 4 rows x 2 tokens: 8 accumulators, 2 activation vectors and a widened weight vector leave
// room in the 16 registers for the compiler's temporaries.
constexpr int kTileRows = 4;
constexpr int kTileTokens = 2;

// 8 weights as f32. A row's last partial vector goes through `tail`, zero-padded.
struct F32 {
  using Elem = float;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
};
struct F16 {
  using Elem = uint16_t;
  static __m256 load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
struct BF16 {
  using Elem = uint16_t;
  static __m256 load(const uint16_t* p) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
  }
};

// The last k % 8 elements of a row, zero-padded to a full vector.
template <typename W>
__m256 load_tail(const typename W::Elem* p, int64_t count) {
  alignas(32) typename W::Elem tmp[8] = {};
  std::memcpy(tmp, p, count * sizeof(tmp[0]));
  return W::load(tmp);
}

// The one reduction order every output uses.
float reduce(__m256 v) {
  __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  b = _mm_add_ps(b, _mm_movehl_ps(b, b));
  b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
  return _mm_cvtss_f32(b);
}

template <typename W, int R, int C>
void tile(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* x, size_t x_stride, float* y, int64_t ldy) {
  using Elem = typename W::Elem;
  const Elem* wr[R];
  const float* xr[C];
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) wr[i] = reinterpret_cast<const Elem*>(w + i * w_stride);
#pragma GCC unroll 4
  for (int j = 0; j < C; ++j) xr[j] = reinterpret_cast<const float*>(x + j * x_stride);
  __m256 acc[R][C];
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < C; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  int64_t c = 0;
  for (; c + 8 <= k; c += 8) {
    __m256 xv[C];
#pragma GCC unroll 4
    for (int j = 0; j < C; ++j) xv[j] = _mm256_loadu_ps(xr[j] + c);
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      const __m256 wv = W::load(wr[i] + c);
#pragma GCC unroll 4
      for (int j = 0; j < C; ++j) acc[i][j] = _mm256_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
  if (c < k) {
    // Padding lanes add 0 * 0: every tile takes this same last step.
    __m256 xv[C];
#pragma GCC unroll 4
    for (int j = 0; j < C; ++j) xv[j] = load_tail<F32>(xr[j] + c, k - c);
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      const __m256 wv = load_tail<W>(wr[i] + c, k - c);
#pragma GCC unroll 4
      for (int j = 0; j < C; ++j) acc[i][j] = _mm256_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < C; ++j) y[j * ldy + i] = reduce(acc[i][j]);
  }
}

template <typename W, int R>
void row_band(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* x, size_t x_stride, int64_t n, float* y,
              int64_t ldy) {
  int64_t j = 0;
  for (; j + kTileTokens <= n; j += kTileTokens) {
    tile<W, R, kTileTokens>(k, w, w_stride, x + j * x_stride, x_stride, y + j * ldy, ldy);
  }
  if (j < n) tile<W, R, 1>(k, w, w_stride, x + j * x_stride, x_stride, y + j * ldy, ldy);
}

template <typename W>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n, float* y,
          int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* xb = static_cast<const uint8_t*>(x);
  int64_t i = 0;
  for (; i + kTileRows <= m; i += kTileRows) {
    row_band<W, kTileRows>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
  }
  switch (m - i) {
    case 1: return row_band<W, 1>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
    case 2: return row_band<W, 2>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
    case 3: return row_band<W, 3>(k, wb + i * w_stride, w_stride, xb, x_stride, n, y + i, ldy);
    default: return;
  }
}

template <typename W>
void dequantize(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, W::load(h + i));
  if (i < n) {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, load_tail<W>(h + i, n - i));
    std::memcpy(dst + i, tmp, (n - i) * sizeof(float));
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

}  // namespace corral::kernels::avx2

#pragma GCC pop_options
