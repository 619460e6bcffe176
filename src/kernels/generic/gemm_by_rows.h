// Internal: builds a GemmFn from a one-row dot product, for the scalar reference kernels.
#pragma once

#include <cstddef>
#include <cstdint>

namespace corral::kernels {

// dot(one weight row, one activation row), k elements each, in their own encodings.
using RowDotFn = float (*)(int64_t k, const void* w, const void* x);

// y[j * ldy + i] = dot(w row i, x row j). Each output depends only on its two rows, so how a
// caller splits m and n across calls or threads never changes a bit of the result. The weight
// row is the outer loop: it stays in L1 while the activation rows stream past it.
template <RowDotFn dot>
void gemm_by_rows(int64_t k, const void* w, size_t w_stride, int64_t m, const void* x, size_t x_stride, int64_t n,
                  float* y, int64_t ldy) {
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* x_bytes = static_cast<const uint8_t*>(x);
  for (int64_t i = 0; i < m; ++i) {
    const uint8_t* w_row = w_bytes + i * w_stride;
    for (int64_t j = 0; j < n; ++j) y[j * ldy + i] = dot(k, w_row, x_bytes + j * x_stride);
  }
}

}  // namespace corral::kernels
