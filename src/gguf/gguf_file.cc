#include "gguf/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace corral::gguf {
namespace {

// Limits on sizes read from files. Real files: ~30 metadata keys, < 2,000 tensors, vocabulary
// arrays of ~260k entries, keys < 100 bytes. The limits are far above that yet stop a hostile
// header from making us allocate gigabytes before the bounds checks could catch it.
constexpr uint64_t kMaxKeyLength = 1 << 16;
constexpr uint64_t kMaxStringLength = 1ull << 30;
constexpr int kMaxArrayDepth = 8;

// Bounds-checked little-endian cursor over the file image.
class Cursor {
 public:
  Cursor(const uint8_t* base, size_t size) : base_(base), size_(size) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  template <typename T>
  Status read(T* out, const char* what) {
    if (remaining() < sizeof(T)) return Status::errorf("truncated file: reading {} at offset {}", what, pos_);
    std::memcpy(out, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }

  Status read_string(std::string* out, uint64_t max_len, const char* what) {
    uint64_t len;
    CORRAL_RETURN_IF_ERROR(read(&len, what));
    if (len > max_len)
      return Status::errorf("{} length {} at offset {} exceeds the limit {}", what, len, pos_ - 8, max_len);
    if (len > remaining())
      return Status::errorf("truncated file: {} of {} bytes at offset {} runs past the end", what, len, pos_);
    out->assign(reinterpret_cast<const char*>(base_ + pos_), len);
    pos_ += len;
    return Status::ok();
  }

 private:
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
};

Status read_scalar(Cursor& c, ValueType t, Value* out) {
  switch (t) {
    case ValueType::kUint8: {
      uint8_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "u8"));
      *out = Value::from_uint(t, v);
      break;
    }
    case ValueType::kInt8: {
      int8_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "i8"));
      *out = Value::from_int(t, v);
      break;
    }
    case ValueType::kUint16: {
      uint16_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "u16"));
      *out = Value::from_uint(t, v);
      break;
    }
    case ValueType::kInt16: {
      int16_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "i16"));
      *out = Value::from_int(t, v);
      break;
    }
    case ValueType::kUint32: {
      uint32_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "u32"));
      *out = Value::from_uint(t, v);
      break;
    }
    case ValueType::kInt32: {
      int32_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "i32"));
      *out = Value::from_int(t, v);
      break;
    }
    case ValueType::kUint64: {
      uint64_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "u64"));
      *out = Value::from_uint(t, v);
      break;
    }
    case ValueType::kInt64: {
      int64_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "i64"));
      *out = Value::from_int(t, v);
      break;
    }
    case ValueType::kFloat32: {
      float v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "f32"));
      *out = Value::from_float(t, v);
      break;
    }
    case ValueType::kFloat64: {
      double v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "f64"));
      *out = Value::from_float(t, v);
      break;
    }
    case ValueType::kBool: {
      uint8_t v{};
      CORRAL_RETURN_IF_ERROR(c.read(&v, "bool"));
      if (v > 1) return Status::errorf("invalid bool value {} at offset {}", v, c.pos() - 1);
      *out = Value::from_bool(v != 0);
      break;
    }
    case ValueType::kString: {
      std::string s;
      CORRAL_RETURN_IF_ERROR(c.read_string(&s, kMaxStringLength, "string"));
      *out = Value::from_string(std::move(s));
      break;
    }
    case ValueType::kArray: return Status::error("internal: read_scalar on array");
  }
  return Status::ok();
}

Status read_value(Cursor& c, ValueType t, int depth, Value* out);

Status read_array(Cursor& c, int depth, Value* out) {
  if (depth > kMaxArrayDepth) return Status::errorf("arrays nested deeper than {}", kMaxArrayDepth);
  uint32_t et_raw;
  CORRAL_RETURN_IF_ERROR(c.read(&et_raw, "array element type"));
  if (et_raw >= kValueTypeCount)
    return Status::errorf("unknown array element type {} at offset {}", et_raw, c.pos() - 4);
  const auto et = static_cast<ValueType>(et_raw);
  uint64_t n;
  CORRAL_RETURN_IF_ERROR(c.read(&n, "array length"));
  // Every element takes at least one byte (strings and arrays at least 8), so a count larger
  // than the bytes left is a lie: reject before allocating.
  const uint64_t min_elem = et == ValueType::kString || et == ValueType::kArray ? 8 : value_type_size(et);
  if (n > c.remaining() / min_elem)
    return Status::errorf("array of {} {} elements at offset {} does not fit in the file", n, value_type_name(et),
                          c.pos() - 8);
  if (et == ValueType::kString) {
    std::vector<std::string> v(n);
    for (auto& s : v) CORRAL_RETURN_IF_ERROR(c.read_string(&s, kMaxStringLength, "array string"));
    *out = Value::string_array(std::move(v));
  } else if (et == ValueType::kArray) {
    std::vector<Value> v(n);
    for (auto& x : v) CORRAL_RETURN_IF_ERROR(read_array(c, depth + 1, &x));
    *out = Value::nested_array(std::move(v));
  } else if (et == ValueType::kFloat32 || et == ValueType::kFloat64) {
    std::vector<double> v(n);
    for (auto& x : v) {
      Value s;
      CORRAL_RETURN_IF_ERROR(read_scalar(c, et, &s));
      x = *s.as_float();
    }
    *out = Value::float_array(et, std::move(v));
  } else if (et == ValueType::kBool || is_signed_type(et)) {
    std::vector<int64_t> v(n);
    for (auto& x : v) {
      Value s;
      CORRAL_RETURN_IF_ERROR(read_scalar(c, et, &s));
      x = *s.as_int();
    }
    *out = Value::int_array(et, std::move(v));
  } else {
    std::vector<uint64_t> v(n);
    for (auto& x : v) {
      Value s;
      CORRAL_RETURN_IF_ERROR(read_scalar(c, et, &s));
      x = *s.as_uint();
    }
    *out = Value::uint_array(et, std::move(v));
  }
  return Status::ok();
}

Status read_value(Cursor& c, ValueType t, int depth, Value* out) {
  if (t == ValueType::kArray) return read_array(c, depth, out);
  return read_scalar(c, t, out);
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

// The fixed header: magic, version (2 or 3), tensor and metadata counts, the counts bounded by
// what the rest of the file can hold.
Status read_header(Cursor& c, size_t file_size, uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv) {
  uint32_t magic;
  CORRAL_RETURN_IF_ERROR(c.read(&magic, "magic"));
  if (magic != kMagic) {
    if (__builtin_bswap32(magic) == kMagic) return Status::error("not a GGUF file (byte-swapped magic)");
    return Status::errorf("not a GGUF file (magic 0x{:08x}, expected \"GGUF\")", magic);
  }
  CORRAL_RETURN_IF_ERROR(c.read(version, "version"));
  if (*version == 1) return Status::error("GGUF version 1 is not supported (re-convert the model)");
  if (*version != 2 && *version != 3) {
    if (__builtin_bswap32(*version) == 2 || __builtin_bswap32(*version) == 3)
      return Status::error("big-endian GGUF files are not supported");
    return Status::errorf("unsupported GGUF version {}", *version);
  }
  CORRAL_RETURN_IF_ERROR(c.read(n_tensors, "tensor count"));
  CORRAL_RETURN_IF_ERROR(c.read(n_kv, "metadata count"));
  // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes, a tensor entry at
  // least 8 + 4 + 8 + 4 + 8: counts that cannot fit in the file are rejected before any
  // allocation sized by them.
  if (*n_kv > c.remaining() / 13)
    return Status::errorf("metadata count {} cannot fit in a {}-byte file", *n_kv, file_size);
  if (*n_tensors > c.remaining() / 32)
    return Status::errorf("tensor count {} cannot fit in a {}-byte file", *n_tensors, file_size);
  return Status::ok();
}

// n_kv key-value pairs; keys are unique.
Status read_metadata(Cursor& c, uint64_t n_kv, std::vector<std::pair<std::string, Value>>* kv,
                     std::unordered_map<std::string, size_t>* index) {
  kv->reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    CORRAL_RETURN_IF_ERROR(c.read_string(&key, kMaxKeyLength, "metadata key"));
    uint32_t t_raw;
    CORRAL_RETURN_IF_ERROR(c.read(&t_raw, "metadata value type"));
    if (t_raw >= kValueTypeCount) return Status::errorf("metadata key '{}' has unknown value type {}", key, t_raw);
    Value v;
    if (Status s = read_value(c, static_cast<ValueType>(t_raw), 0, &v); !s)
      return s.with_context(fmt::format("metadata key '{}'", key));
    if (index->count(key)) return Status::errorf("duplicate metadata key '{}'", key);
    index->emplace(key, kv->size());
    kv->emplace_back(std::move(key), std::move(v));
  }
  return Status::ok();
}

// general.alignment when the file sets it (a power-of-two u32), else `fallback`.
Result<size_t> alignment_of(const Value* a, size_t fallback) {
  if (!a) return fallback;
  auto av = a->as_uint();
  if (a->type() != ValueType::kUint32 || !av || *av == 0 || (*av & (*av - 1)) != 0)
    return Status::errorf("general.alignment must be a power-of-two u32, got {}", a->to_string());
  return static_cast<size_t>(*av);
}

// One tensor entry: name, dimensions, type and offset; its byte size computed without overflow.
Status read_tensor_info(Cursor& c, TensorInfo& t) {
  CORRAL_RETURN_IF_ERROR(c.read_string(&t.name, kMaxKeyLength, "tensor name"));
  uint32_t n_dims;
  CORRAL_RETURN_IF_ERROR(c.read(&n_dims, "tensor dimension count"));
  if (n_dims == 0 || n_dims > kMaxDims)
    return Status::errorf("tensor '{}' has {} dimensions (1..{} allowed)", t.name, n_dims, kMaxDims);
  t.n_dims = static_cast<int>(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d) {
    int64_t ne;
    CORRAL_RETURN_IF_ERROR(c.read(&ne, "tensor dimension"));
    if (ne <= 0) return Status::errorf("tensor '{}' has dimension {} = {}", t.name, d, ne);
    t.ne[d] = ne;
  }
  uint32_t type_raw;
  CORRAL_RETURN_IF_ERROR(c.read(&type_raw, "tensor type"));
  const DTypeTraits& tr = dtype_traits(type_raw);
  if (!tr.name) return Status::errorf("tensor '{}' has unknown type id {}", t.name, type_raw);
  t.type = static_cast<DType>(type_raw);
  CORRAL_RETURN_IF_ERROR(c.read(&t.offset, "tensor offset"));
  if (t.ne[0] % tr.block_size != 0)
    return Status::errorf("tensor '{}' row length {} is not a multiple of the {} block size {}", t.name, t.ne[0],
                          tr.name, tr.block_size);
  uint64_t n = 1;
  for (int d = 0; d < kMaxDims; ++d)
    if (mul_overflows(n, static_cast<uint64_t>(t.ne[d]), &n))
      return Status::errorf("tensor '{}' element count overflows", t.name);
  uint64_t bytes;
  if (mul_overflows(n / tr.block_size, tr.type_size, &bytes))
    return Status::errorf("tensor '{}' byte size overflows", t.name);
  t.nbytes = bytes;
  return Status::ok();
}

// Points each tensor at its bytes in the data section [data, data + data_size): each aligned,
// inside the section, and no two overlapping.
Status place_tensors(std::vector<TensorInfo>& tensors, const uint8_t* data, size_t data_size, size_t align) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (TensorInfo& t : tensors) {
    if (t.offset % align)
      return Status::errorf("tensor '{}' offset {} is not a multiple of the alignment {}", t.name, t.offset, align);
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      return Status::errorf("tensor '{}' ({} bytes at data offset {}) runs past the end of the file", t.name, t.nbytes,
                            t.offset);
    t.data = data + t.offset;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const TensorInfo& prev = tensors[order[i - 1]];
    const TensorInfo& cur = tensors[order[i]];
    if (prev.offset + prev.nbytes > cur.offset)
      return Status::errorf("tensors '{}' and '{}' overlap", prev.name, cur.name);
  }
  return Status::ok();
}

}  // namespace

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

Result<std::shared_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  auto map = MappedFile::open(path);
  if (!map) return map.status();
  std::shared_ptr<GgufFile> f(new GgufFile());
  f->map_ = std::move(map).value();
  f->base_ = f->map_.data();
  f->size_ = f->map_.size();
  f->path_ = path;
  auto r = parse(std::move(f));
  if (!r) return r.status().with_context(path);
  return r;
}

Result<std::shared_ptr<GgufFile>> GgufFile::from_bytes(std::string bytes) {
  std::shared_ptr<GgufFile> f(new GgufFile());
  f->owned_ = std::move(bytes);
  f->base_ = reinterpret_cast<const uint8_t*>(f->owned_.data());
  f->size_ = f->owned_.size();
  f->path_ = "<memory>";
  return parse(std::move(f));
}

Result<std::shared_ptr<const GgufFile>> GgufFile::resident_copy() const {
  const size_t data_size = size_ - data_offset_;
  auto mem = owned_.empty() ? ResidentMemory::read_file(path_, data_offset_, data_size)
                            : ResidentMemory::copy_of(base_ + data_offset_, data_size);
  if (!mem) return mem.status().with_context(path_);
  std::shared_ptr<GgufFile> f(new GgufFile());
  f->resident_ = std::move(mem).value();
  f->size_ = size_;
  f->path_ = path_;
  f->version_ = version_;
  f->alignment_ = alignment_;
  f->data_offset_ = data_offset_;
  f->kv_ = kv_;
  f->kv_index_ = kv_index_;
  f->tensors_ = tensors_;
  f->tensor_index_ = tensor_index_;
  for (TensorInfo& t : f->tensors_) t.data = f->resident_.data() + t.offset;
  return std::shared_ptr<const GgufFile>(std::move(f));
}

uint8_t* GgufFile::writable_data(const TensorInfo& t) const {
  uint8_t* base = resident_.writable();
  return base ? base + t.offset : nullptr;
}

Status GgufFile::seal_resident() const { return resident_.seal(); }

Result<std::shared_ptr<GgufFile>> GgufFile::parse(std::shared_ptr<GgufFile> f) {
  Cursor c(f->base_, f->size_);
  uint64_t n_tensors = 0, n_kv = 0;
  CORRAL_RETURN_IF_ERROR(read_header(c, f->size_, &f->version_, &n_tensors, &n_kv));
  CORRAL_RETURN_IF_ERROR(read_metadata(c, n_kv, &f->kv_, &f->kv_index_));
  CORRAL_ASSIGN_OR_RETURN(f->alignment_, alignment_of(f->find("general.alignment"), f->alignment_));

  f->tensors_.resize(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo& t = f->tensors_[i];
    CORRAL_RETURN_IF_ERROR(read_tensor_info(c, t));
    if (f->tensor_index_.count(t.name)) return Status::errorf("duplicate tensor name '{}'", t.name);
    f->tensor_index_.emplace(t.name, i);
  }

  // The data section starts at the next multiple of the alignment.
  const size_t align = f->alignment_;
  size_t data_off = c.pos();
  if (data_off % align) data_off += align - data_off % align;
  if (n_tensors > 0 && data_off > f->size_)
    return Status::errorf("data section offset {} is past the end of the {}-byte file", data_off, f->size_);
  f->data_offset_ = data_off;
  const size_t data_size = f->size_ >= data_off ? f->size_ - data_off : 0;
  CORRAL_RETURN_IF_ERROR(place_tensors(f->tensors_, f->base_ + data_off, data_size, align));
  return f;
}

const Value* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<std::optional<int64_t>> GgufFile::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::optional<int64_t>();
  if (!is_integer_type(v->type()) || !v->as_int())
    return Status::errorf("metadata '{}' should be an integer, found {}", key, value_type_name(v->type()));
  return std::optional<int64_t>(*v->as_int());
}

Result<std::optional<double>> GgufFile::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::optional<double>();
  if (!v->as_float() || v->type() == ValueType::kBool)
    return Status::errorf("metadata '{}' should be a number, found {}", key, value_type_name(v->type()));
  return std::optional<double>(*v->as_float());
}

Result<std::optional<bool>> GgufFile::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::optional<bool>();
  if (!v->as_bool()) return Status::errorf("metadata '{}' should be a bool, found {}", key, value_type_name(v->type()));
  return std::optional<bool>(*v->as_bool());
}

Result<std::optional<std::string>> GgufFile::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::optional<std::string>();
  if (!v->as_string())
    return Status::errorf("metadata '{}' should be a string, found {}", key, value_type_name(v->type()));
  return std::optional<std::string>(*v->as_string());
}

int64_t GgufFile::int_or(std::string_view key, int64_t def) const {
  auto r = get_int(key);
  return r && r->has_value() ? **r : def;
}
double GgufFile::float_or(std::string_view key, double def) const {
  auto r = get_float(key);
  return r && r->has_value() ? **r : def;
}
bool GgufFile::bool_or(std::string_view key, bool def) const {
  auto r = get_bool(key);
  return r && r->has_value() ? **r : def;
}
std::string GgufFile::string_or(std::string_view key, std::string def) const {
  auto r = get_string(key);
  return r && r->has_value() ? **r : def;
}

}  // namespace corral::gguf
