// GGUF v2/v3 reader. The file is memory-mapped; tensor data is used in place (zero-copy), or
// from a resident copy of the data section (resident_copy(): what a loaded model reads).
// Every count, length and offset read from the file is checked against the file size and
// sane limits first, so a truncated or hostile file yields an error, never a crash.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "base/resident_memory.h"
#include "base/status.h"
#include "gguf/value.h"
#include "tensor/dtype.h"

namespace corral::gguf {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;  // ggml tensors have at most 4 dimensions

struct TensorInfo {
  std::string name;
  DType type = DType::kF32;
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};  // ggml order: ne[0] is the innermost (row) length
  uint64_t offset = 0;                  // from the start of the data section
  size_t nbytes = 0;
  const uint8_t* data = nullptr;  // points into the mapping (or the resident copy)

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }  // as a 2-D matrix [rows][ne[0]]
  size_t row_bytes() const { return dtype_row_bytes(type, ne[0]); }
  std::string shape_string() const;
};

class GgufFile {
 public:
  // Maps and parses a file.
  static Result<std::shared_ptr<GgufFile>> open(const std::string& path);
  // Parses an in-memory image (tests, fuzzing); the bytes are owned by the result.
  static Result<std::shared_ptr<GgufFile>> from_bytes(std::string bytes);
  // The same metadata and tensors, with the tensor data read once into private memory on huge
  // pages (ResidentMemory) instead of read through the file mapping. Costs the data section's
  // size in memory; the file itself is not read through its mapping again.
  // The copy stays writable until seal_resident(), so that a loader may rearrange a tensor's
  // bytes in place (writable_data) while it builds a model from it.
  Result<std::shared_ptr<const GgufFile>> resident_copy() const;
  bool is_resident() const { return resident_.data() != nullptr; }
  // t's bytes, writable: only in a resident copy not sealed yet, else nullptr.
  uint8_t* writable_data(const TensorInfo& t) const;
  Status seal_resident() const;

  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return size_; }
  const std::string& path() const { return path_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;

  // Typed lookups: nullopt when absent; an error when present with an incompatible type.
  Result<std::optional<int64_t>> get_int(std::string_view key) const;
  Result<std::optional<double>> get_float(std::string_view key) const;
  Result<std::optional<bool>> get_bool(std::string_view key) const;
  Result<std::optional<std::string>> get_string(std::string_view key) const;
  // Conveniences that fall back to a default when absent or mistyped.
  int64_t int_or(std::string_view key, int64_t def) const;
  double float_or(std::string_view key, double def) const;
  bool bool_or(std::string_view key, bool def) const;
  std::string string_or(std::string_view key, std::string def) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  static Result<std::shared_ptr<GgufFile>> parse(std::shared_ptr<GgufFile> f);

  MappedFile map_;
  std::string owned_;  // for from_bytes
  // [size_ - data_offset_] bytes: the data section (resident_copy). Mutable: sealing it, and the
  // loader's rewrites before that, do not change what the file describes.
  mutable ResidentMemory resident_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  uint32_t version_ = 0;
  size_t alignment_ = kDefaultAlignment;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace corral::gguf
