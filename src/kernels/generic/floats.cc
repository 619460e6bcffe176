// Scalar reference kernels for the unquantized types F32, F16 and BF16.
#include <algorithm>
#include <cstring>

#include "base/fp16.h"
#include "kernels/generic/families.h"

namespace corral::kernels {
namespace {

void dequantize_f32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
void quantize_f32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_f16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(h[i]);
}
void quantize_f16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = f32_to_fp16(src[i]);
}

void dequantize_bf16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(h[i]);
}
void quantize_bf16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(src[i]);
}

// Weight elements are widened to f32 kChunk at a time and each chunk serves kRowsPerPass
// activation rows, so F16/BF16 conversion is paid once per 8 products with no buffer as long
// as a row. 256 floats (1 KiB) stay in L1 next to the activation rows being read.
constexpr int64_t kChunk = 256;
constexpr int64_t kRowsPerPass = 8;

// Dense gemm: y = W x with W widened to f32 (widen == nullptr: W already is f32). More exact
// than llama.cpp, which rounds the activations to F16 for F16 weights. Products of two floats
// are exact in double and are summed in double in element order, so every output is
// independent of how m and n are split.
template <typename T, DequantizeRowFn widen>
void gemm_dense(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n,
                float* y, int64_t ldy) {
  float chunk[kChunk];  // [kChunk] current slice of weight row i, as f32
  const auto* x_bytes = static_cast<const uint8_t*>(x);
  for (int64_t i = 0; i < m; ++i) {
    const T* w_row = reinterpret_cast<const T*>(static_cast<const uint8_t*>(w) + i * w_stride);
    for (int64_t j0 = 0; j0 < n; j0 += kRowsPerPass) {
      const int64_t rows = std::min(kRowsPerPass, n - j0);
      double acc[kRowsPerPass] = {};  // [rows] running dot products
      for (int64_t c0 = 0; c0 < k; c0 += kChunk) {
        const int64_t len = std::min(kChunk, k - c0);
        const float* wc = chunk;
        if constexpr (widen == nullptr) {
          wc = w_row + c0;
        } else {
          widen(w_row + c0, chunk, len);
        }
        for (int64_t r = 0; r < rows; ++r) {
          const float* xr = reinterpret_cast<const float*>(x_bytes + (j0 + r) * x_stride) + c0;
          double s = acc[r];
          for (int64_t c = 0; c < len; ++c) s += static_cast<double>(wc[c]) * xr[c];
          acc[r] = s;
        }
      }
      for (int64_t r = 0; r < rows; ++r) y[(j0 + r) * ldy + i] = static_cast<float>(acc[r]);
    }
  }
}

}  // namespace

void register_generic_floats(KernelTable& t) {
  constexpr auto f32 = static_cast<uint32_t>(DType::kF32);
  constexpr auto f16 = static_cast<uint32_t>(DType::kF16);
  constexpr auto bf16 = static_cast<uint32_t>(DType::kBF16);
  t.dequantize_row[f32] = dequantize_f32;
  t.quantize_row[f32] = quantize_f32;
  t.gemm[f32] = gemm_dense<float, nullptr>;
  t.dequantize_row[f16] = dequantize_f16;
  t.quantize_row[f16] = quantize_f16;
  t.gemm[f16] = gemm_dense<uint16_t, dequantize_f16>;
  t.dequantize_row[bf16] = dequantize_bf16;
  t.quantize_row[bf16] = quantize_bf16;
  t.gemm[bf16] = gemm_dense<uint16_t, dequantize_bf16>;
}

}  // namespace corral::kernels
