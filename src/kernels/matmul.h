// The matrix product the model layer calls: y = x W^T for a weight matrix in any supported
// type, threaded over a ThreadPool, through the active kernel table.
//
// Activations are encoded in activation_type(w.type) first (Q8_0, Q8_1, Q8_K or plain F32),
// as llama.cpp does. quantize_activations + matmul_quantized let several weights that read
// the same input (Q, K, V; gate, up) share one encoding.
//
// Results are deterministic: every output element is computed by the same kernel call on the
// same two rows whatever the thread count and however a batch is tiled, so a token's logits
// do not depend on which other tokens share its batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace corral::kernels {

// A row-major weight matrix borrowed from the model file (no ownership).
struct WeightMatrix {
  DType type = DType::kF32;
  int64_t rows = 0;            // m: outputs
  int64_t cols = 0;            // k: inputs, a multiple of the type's block size
  const void* data = nullptr;  // [rows][row_stride bytes], or interleaved (api.h kInterleaveRows)
  size_t row_stride = 0;       // bytes between rows (between groups: kInterleaveRows * row_stride)
  bool interleaved = false;    // rows grouped as interleave_rows leaves them
};

// Whether the active kernels multiply interleaved matrices of type t.
bool can_interleave(DType t);
// Rewrites rows [0, rows) of `row_stride` bytes at data, in place, into the interleaved order
// (api.h); can_interleave(t) must hold. Rows then read back through get_row unchanged.
void interleave_rows(DType t, void* data, int64_t rows, size_t row_stride);

// n rows of k activations encoded in `type`, ready for matmul_quantized.
struct QuantizedActivations {
  DType type = DType::kF32;
  int64_t n = 0;               // rows (tokens)
  int64_t k = 0;               // elements per row
  const void* data = nullptr;  // [n][row_bytes]; the caller's floats when type is F32
  size_t row_bytes = 0;
};

// Reusable buffers for one calling thread (not thread-safe): the encoded activations. Grows to
// the largest input seen and keeps that size, so steady-state calls allocate nothing.
class MatmulScratch {
 public:
  MatmulScratch() = default;
  MatmulScratch(const MatmulScratch&) = delete;
  MatmulScratch& operator=(const MatmulScratch&) = delete;
  MatmulScratch(MatmulScratch&&) = default;
  MatmulScratch& operator=(MatmulScratch&&) = default;

 private:
  friend const QuantizedActivations& quantize_activations(DType, const float*, int64_t, int64_t, ThreadPool&,
                                                          MatmulScratch&);
  // A buffer of at least `bytes`, 64-byte aligned; previous contents are not kept.
  void* reserve(size_t bytes);

  struct AlignedFree {
    void operator()(std::byte* p) const;
  };
  std::unique_ptr<std::byte[], AlignedFree> buffer_;  // [capacity_] encoded activations
  size_t capacity_ = 0;
  QuantizedActivations activations_;  // the last quantize_activations result
};

// Encodes x ([n][k] f32) as `activation_type` into scratch (F32: no copy, x is used in place
// and must outlive the result). Parallel over rows of x. The result lives in scratch until the
// next call on it.
const QuantizedActivations& quantize_activations(DType activation_type, const float* x, int64_t n, int64_t k,
                                                 ThreadPool& pool, MatmulScratch& scratch);

// y[j * ldy + i] = sum_c x[j][c] * W[i][c] for j < qa.n, i < w.rows, with qa encoded in
// activation_type(w.type) and qa.k == w.cols. ldy >= w.rows.
void matmul_quantized(const WeightMatrix& w, const QuantizedActivations& qa, float* y, int64_t ldy, ThreadPool& pool);

// quantize_activations + matmul_quantized for x [n][w.cols] f32.
void matmul(const WeightMatrix& w, const float* x, int64_t n, float* y, int64_t ldy, ThreadPool& pool,
            MatmulScratch& scratch);

// out[0, w.cols) = row `row` of w as f32 (an embedding lookup), interleaved or not.
void get_row(const WeightMatrix& w, int64_t row, float* out);

}  // namespace corral::kernels
