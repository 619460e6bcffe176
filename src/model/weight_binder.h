// Looks up a model's tensors by name and checks their shapes and types before the forward
// pass ever touches them (the file is untrusted).
#pragma once

#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "kernels/matmul.h"

namespace corral::model {

class WeightBinder {
 public:
  explicit WeightBinder(const gguf::GgufFile& file) : file_(file) {}

  // A [rows][cols] matrix (GGUF shape [cols, rows]) of any type the kernels can multiply. In a
  // resident copy not sealed yet, and where the active kernels take it (kernels::can_interleave),
  // the matrix is interleaved in place the first time it is bound (kernels/api.h
  // kInterleaveRows): one-row decode then streams it. `interleave` false keeps the row order
  // (a fused tensor whose parts do not start and end on whole groups of rows).
  Result<kernels::WeightMatrix> matrix(const std::string& name, int64_t rows, int64_t cols, bool interleave = true);
  // Same, but absent is fine (returns a matrix with data == nullptr).
  Result<kernels::WeightMatrix> optional_matrix(const std::string& name, int64_t rows, int64_t cols,
                                                bool interleave = true);
  // A 3-D tensor (GGUF shape [cols, rows, n]) as n [rows][cols] matrices (MoE experts).
  Result<std::vector<kernels::WeightMatrix>> experts(const std::string& name, int64_t n, int64_t rows, int64_t cols);
  // A 1-D tensor of n values as f32. F32 tensors are used in place; F16/BF16 are converted
  // into storage the binder keeps (take it with release_owned()).
  Result<const float*> vector(const std::string& name, int64_t n);
  Result<const float*> optional_vector(const std::string& name, int64_t n);  // nullptr if absent
  // A 2-D tensor of f32 values [rows][cols] (GGUF shape [cols, rows]; per-expert biases),
  // converted like vector().
  Result<const float*> rows(const std::string& name, int64_t rows, int64_t cols);

  // Converted 1-D tensors; the model must keep them alive.
  std::vector<std::vector<float>> release_owned() { return std::move(owned_); }
  // Bytes of all tensors bound so far.
  size_t bound_bytes() const { return bound_bytes_; }

 private:
  // The values of a tensor t (of n elements) as f32: in place or converted into owned_.
  Result<const float*> floats(const std::string& name, const gguf::TensorInfo& t, int64_t n);

  const gguf::GgufFile& file_;
  std::set<std::string> interleaved_;  // tensors bound interleaved so far
  std::vector<std::vector<float>> owned_;
  size_t bound_bytes_ = 0;
};

// Rows [first, first + count) of m as a matrix of their own (a fused tensor's parts: phi3's
// attn_qkv and gate/up ffn_up). Rows are contiguous, so this is a view; an interleaved m must
// be cut on whole groups of kernels::kInterleaveRows rows (bind it with interleave = false
// otherwise).
kernels::WeightMatrix row_slice(const kernels::WeightMatrix& m, int64_t first, int64_t count);
// Whether parts of these row counts, one after another, start and end on whole groups of
// interleaved rows (the `interleave` argument for the fused tensor they are cut from).
bool whole_groups(std::initializer_list<int64_t> part_rows);

}  // namespace corral::model
