#include "gguf/gguf_writer.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/check.h"
#include "gguf/gguf_file.h"

namespace corral::gguf {
namespace {

template <typename T>
void append_raw(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void append_scalar(std::string& out, ValueType t, const Value& v) {
  switch (t) {
    case ValueType::kUint8: append_raw<uint8_t>(out, static_cast<uint8_t>(*v.as_uint())); break;
    case ValueType::kInt8: append_raw<int8_t>(out, static_cast<int8_t>(*v.as_int())); break;
    case ValueType::kUint16: append_raw<uint16_t>(out, static_cast<uint16_t>(*v.as_uint())); break;
    case ValueType::kInt16: append_raw<int16_t>(out, static_cast<int16_t>(*v.as_int())); break;
    case ValueType::kUint32: append_raw<uint32_t>(out, static_cast<uint32_t>(*v.as_uint())); break;
    case ValueType::kInt32: append_raw<int32_t>(out, static_cast<int32_t>(*v.as_int())); break;
    case ValueType::kUint64: append_raw<uint64_t>(out, *v.as_uint()); break;
    case ValueType::kInt64: append_raw<int64_t>(out, *v.as_int()); break;
    case ValueType::kFloat32: append_raw<float>(out, static_cast<float>(*v.as_float())); break;
    case ValueType::kFloat64: append_raw<double>(out, *v.as_float()); break;
    case ValueType::kBool: append_raw<uint8_t>(out, *v.as_bool() ? 1 : 0); break;
    case ValueType::kString: append_gguf_string(out, *v.as_string()); break;
    case ValueType::kArray: CORRAL_CHECK(false, "append_scalar on array");
  }
}

}  // namespace

void append_u32(std::string& out, uint32_t v) { append_raw(out, v); }
void append_u64(std::string& out, uint64_t v) { append_raw(out, v); }
void append_gguf_string(std::string& out, const std::string& s) {
  append_u64(out, s.size());
  out += s;
}

void append_value(std::string& out, const Value& v) {
  if (!v.is_array()) {
    append_scalar(out, v.type(), v);
    return;
  }
  const ValueType et = v.elem_type();
  append_u32(out, static_cast<uint32_t>(et));
  append_u64(out, v.size());
  if (auto* s = v.strings()) {
    for (const auto& x : *s) append_gguf_string(out, x);
  } else if (auto* n = v.values()) {
    for (const auto& x : *n) append_value(out, x);
  } else if (auto* f = v.floats()) {
    for (double x : *f) append_scalar(out, et, Value::from_float(et, x));
  } else if (auto* i = v.ints()) {
    for (int64_t x : *i)
      append_scalar(out, et, et == ValueType::kBool ? Value::from_bool(x != 0) : Value::from_int(et, x));
  } else if (auto* u = v.uints()) {
    for (uint64_t x : *u) append_scalar(out, et, Value::from_uint(et, x));
  }
}

void GgufWriter::set(std::string key, Value v) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  }
  kv_.emplace_back(std::move(key), std::move(v));
}

void GgufWriter::add_tensor(std::string name, DType type, std::vector<int64_t> ne, std::string data) {
  CORRAL_CHECK(!ne.empty() && ne.size() <= static_cast<size_t>(kMaxDims), "bad tensor rank");
  int64_t rows = 1;
  for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
  CORRAL_CHECK(data.size() == dtype_row_bytes(type, ne[0]) * rows, "tensor {} data size {} != expected", name,
               data.size());
  tensors_.push_back(Tensor{std::move(name), type, std::move(ne), std::move(data)});
}

size_t GgufWriter::alignment() const {
  for (const auto& kv : kv_)
    if (kv.first == "general.alignment" && kv.second.as_uint()) return *kv.second.as_uint();
  return kDefaultAlignment;
}

std::string GgufWriter::header_bytes() const {
  const size_t align = alignment();
  std::string out;
  append_u32(out, kMagic);
  append_u32(out, 3);
  append_u64(out, tensors_.size());
  append_u64(out, kv_.size());
  for (const auto& [key, v] : kv_) {
    append_gguf_string(out, key);
    append_u32(out, static_cast<uint32_t>(v.type()));
    append_value(out, v);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    append_gguf_string(out, t.name);
    append_u32(out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t n : t.ne) append_u64(out, static_cast<uint64_t>(n));
    append_u32(out, static_cast<uint32_t>(t.type));
    append_u64(out, offset);
    offset += t.data.size();
    if (offset % align) offset += align - offset % align;
  }
  if (out.size() % align) out.append(align - out.size() % align, '\0');
  return out;
}

std::string GgufWriter::to_bytes() const {
  const size_t align = alignment();
  std::string out = header_bytes();
  for (const Tensor& t : tensors_) {
    out += t.data;
    if (out.size() % align) out.append(align - out.size() % align, '\0');
  }
  return out;
}

Status GgufWriter::write_file(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::errorf("cannot create {}: {}", tmp, std::strerror(errno));
    // Streamed tensor by tensor: a synthetic 1B-parameter model is gigabytes.
    const size_t align = alignment();
    const std::string header = header_bytes();
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    const std::string zeros(align, '\0');
    for (const Tensor& t : tensors_) {
      f.write(t.data.data(), static_cast<std::streamsize>(t.data.size()));
      if (t.data.size() % align) f.write(zeros.data(), static_cast<std::streamsize>(align - t.data.size() % align));
    }
    if (!f) return Status::errorf("cannot write {}: {}", tmp, std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::errorf("cannot rename {} to {}: {}", tmp, path, std::strerror(errno));
  return Status::ok();
}

}  // namespace corral::gguf
