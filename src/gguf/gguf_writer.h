// GGUF v3 writer: metadata in insertion order, tensors aligned to general.alignment (32).
// Used by tests (hand-made files) and by the synthetic-model tool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/value.h"
#include "tensor/dtype.h"

namespace corral::gguf {

class GgufWriter {
 public:
  void set(std::string key, Value v);  // replaces an existing key, keeps its position
  void set_string(std::string key, std::string v) { set(std::move(key), Value::from_string(std::move(v))); }
  void set_u32(std::string key, uint32_t v) { set(std::move(key), Value::from_uint(ValueType::kUint32, v)); }
  void set_i32(std::string key, int32_t v) { set(std::move(key), Value::from_int(ValueType::kInt32, v)); }
  void set_f32(std::string key, float v) { set(std::move(key), Value::from_float(ValueType::kFloat32, v)); }
  void set_bool(std::string key, bool v) { set(std::move(key), Value::from_bool(v)); }

  // Adds a tensor; `ne` in ggml order (ne[0] = row length). `data` must hold exactly the
  // tensor's bytes (dtype_row_bytes(type, ne[0]) * rows); CHECKed.
  void add_tensor(std::string name, DType type, std::vector<int64_t> ne, std::string data);

  // Serialises the whole file image.
  std::string to_bytes() const;
  Status write_file(const std::string& path) const;

 private:
  size_t alignment() const;
  std::string header_bytes() const;  // everything before the data section, padded
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    std::string data;
  };
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<Tensor> tensors_;
};

// Low-level helpers for building deliberately broken files in tests.
void append_u32(std::string& out, uint32_t v);
void append_u64(std::string& out, uint64_t v);
void append_gguf_string(std::string& out, const std::string& s);
void append_value(std::string& out, const Value& v);  // payload only (no type tag)

}  // namespace corral::gguf
