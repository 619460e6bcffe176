#include "model/weight_binder.h"

#include "base/check.h"
#include "kernels/api.h"

namespace corral::model {

Result<kernels::WeightMatrix> WeightBinder::optional_matrix(const std::string& name, int64_t rows, int64_t cols,
                                                            bool interleave) {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (!t) return kernels::WeightMatrix{};
  if (t->n_dims > 2 || t->ne[0] != cols || t->ne[1] != rows)
    return Status::errorf("tensor {} has shape {}, expected [{}, {}]", name, t->shape_string(), cols, rows);
  const DTypeTraits& tr = dtype_traits(t->type);
  if (!tr.supported || !kernels::active().gemm[static_cast<uint32_t>(t->type)])
    return Status::errorf("tensor {} has type {}, which is not supported yet", name, tr.name);
  bound_bytes_ += t->nbytes;
  kernels::WeightMatrix m{t->type, rows, cols, t->data, t->row_bytes()};
  if (interleaved_.count(name)) {
    m.interleaved = true;
  } else if (uint8_t* bytes = interleave ? file_.writable_data(*t) : nullptr;
             bytes && kernels::can_interleave(t->type)) {
    kernels::interleave_rows(t->type, bytes, rows, m.row_stride);
    interleaved_.insert(name);
    m.interleaved = true;
  }
  return m;
}

Result<std::vector<kernels::WeightMatrix>> WeightBinder::experts(const std::string& name, int64_t n, int64_t rows,
                                                                 int64_t cols) {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (!t) return Status::errorf("missing tensor {}", name);
  if (t->n_dims != 3 || t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != n)
    return Status::errorf("tensor {} has shape {}, expected [{}, {}, {}]", name, t->shape_string(), cols, rows, n);
  const DTypeTraits& tr = dtype_traits(t->type);
  if (!tr.supported || !kernels::active().gemm[static_cast<uint32_t>(t->type)])
    return Status::errorf("tensor {} has type {}, which is not supported yet", name, tr.name);
  bound_bytes_ += t->nbytes;
  std::vector<kernels::WeightMatrix> out;
  const size_t matrix_bytes = t->row_bytes() * static_cast<size_t>(rows);
  for (int64_t e = 0; e < n; ++e)
    out.push_back({t->type, rows, cols, t->data + static_cast<size_t>(e) * matrix_bytes, t->row_bytes()});
  return out;
}

bool whole_groups(std::initializer_list<int64_t> part_rows) {
  for (int64_t n : part_rows)
    if (n % kernels::kInterleaveRows != 0) return false;
  return true;
}

kernels::WeightMatrix row_slice(const kernels::WeightMatrix& m, int64_t first, int64_t count) {
  CORRAL_CHECK(!m.interleaved || (first % kernels::kInterleaveRows == 0 &&
                                  (count % kernels::kInterleaveRows == 0 || first + count == m.rows)),
               "rows [{}, {}) of an interleaved matrix cut a group", first, first + count);
  kernels::WeightMatrix s = m;
  s.rows = count;
  s.data = static_cast<const std::byte*>(m.data) + static_cast<size_t>(first) * m.row_stride;
  return s;
}

Result<kernels::WeightMatrix> WeightBinder::matrix(const std::string& name, int64_t rows, int64_t cols,
                                                   bool interleave) {
  CORRAL_ASSIGN_OR_RETURN(kernels::WeightMatrix m, optional_matrix(name, rows, cols, interleave));
  if (!m.data) return Status::errorf("missing tensor {}", name);
  return m;
}

Result<const float*> WeightBinder::optional_vector(const std::string& name, int64_t n) {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (!t) return static_cast<const float*>(nullptr);
  if (t->n_elements() != n || t->ne[0] != n)
    return Status::errorf("tensor {} has shape {}, expected [{}]", name, t->shape_string(), n);
  return floats(name, *t, n);
}

Result<const float*> WeightBinder::rows(const std::string& name, int64_t rows, int64_t cols) {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (!t) return Status::errorf("missing tensor {}", name);
  if (t->n_dims != 2 || t->ne[0] != cols || t->ne[1] != rows)
    return Status::errorf("tensor {} has shape {}, expected [{}, {}]", name, t->shape_string(), cols, rows);
  return floats(name, *t, rows * cols);
}

Result<const float*> WeightBinder::floats(const std::string& name, const gguf::TensorInfo& t, int64_t n) {
  if (t.type == DType::kF32) {
    bound_bytes_ += t.nbytes;
    return reinterpret_cast<const float*>(t.data);
  }
  if (t.type != DType::kF16 && t.type != DType::kBF16)
    return Status::errorf("tensor {} has type {}; norm, bias and sink tensors must be f32, f16 or bf16", name,
                          dtype_name(t.type));
  bound_bytes_ += t.nbytes;
  std::vector<float>& v = owned_.emplace_back(static_cast<size_t>(n));
  kernels::dequantize_row(t.type, t.data, v.data(), n);
  return static_cast<const float*>(v.data());
}

Result<const float*> WeightBinder::vector(const std::string& name, int64_t n) {
  CORRAL_ASSIGN_OR_RETURN(const float* p, optional_vector(name, n));
  if (!p) return Status::errorf("missing tensor {}", name);
  return p;
}

}  // namespace corral::model
