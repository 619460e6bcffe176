#include "gguf/value.h"

#include <limits>

#include <fmt/format.h>

#include "base/quote.h"

namespace corral::gguf {

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::kUint8: return "u8";
    case ValueType::kInt8: return "i8";
    case ValueType::kUint16: return "u16";
    case ValueType::kInt16: return "i16";
    case ValueType::kUint32: return "u32";
    case ValueType::kInt32: return "i32";
    case ValueType::kFloat32: return "f32";
    case ValueType::kBool: return "bool";
    case ValueType::kString: return "str";
    case ValueType::kArray: return "arr";
    case ValueType::kUint64: return "u64";
    case ValueType::kInt64: return "i64";
    case ValueType::kFloat64: return "f64";
  }
  return "?";
}

size_t value_type_size(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kBool: return 1;
    case ValueType::kUint16:
    case ValueType::kInt16: return 2;
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kFloat32: return 4;
    case ValueType::kUint64:
    case ValueType::kInt64:
    case ValueType::kFloat64: return 8;
    case ValueType::kString:
    case ValueType::kArray: return 0;
  }
  return 0;
}

bool is_integer_type(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kUint16:
    case ValueType::kInt16:
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kUint64:
    case ValueType::kInt64: return true;
    default: return false;
  }
}

bool is_signed_type(ValueType t) {
  return t == ValueType::kInt8 || t == ValueType::kInt16 || t == ValueType::kInt32 || t == ValueType::kInt64;
}

Value Value::from_int(ValueType t, int64_t v) {
  Value r;
  r.type_ = t;
  r.data_ = v;
  return r;
}
Value Value::from_uint(ValueType t, uint64_t v) {
  Value r;
  r.type_ = t;
  r.data_ = v;
  return r;
}
Value Value::from_float(ValueType t, double v) {
  Value r;
  r.type_ = t;
  r.data_ = v;
  return r;
}
Value Value::from_bool(bool v) {
  Value r;
  r.type_ = ValueType::kBool;
  r.data_ = v;
  return r;
}
Value Value::from_string(std::string v) {
  Value r;
  r.type_ = ValueType::kString;
  r.data_ = std::move(v);
  return r;
}
Value Value::int_array(ValueType elem, std::vector<int64_t> v) {
  Value r;
  r.type_ = ValueType::kArray;
  r.elem_type_ = elem;
  r.data_ = std::move(v);
  return r;
}
Value Value::uint_array(ValueType elem, std::vector<uint64_t> v) {
  Value r;
  r.type_ = ValueType::kArray;
  r.elem_type_ = elem;
  r.data_ = std::move(v);
  return r;
}
Value Value::float_array(ValueType elem, std::vector<double> v) {
  Value r;
  r.type_ = ValueType::kArray;
  r.elem_type_ = elem;
  r.data_ = std::move(v);
  return r;
}
Value Value::bool_array(std::vector<bool> v) {
  std::vector<int64_t> ints(v.begin(), v.end());
  Value r = int_array(ValueType::kBool, std::move(ints));
  return r;
}
Value Value::string_array(std::vector<std::string> v) {
  Value r;
  r.type_ = ValueType::kArray;
  r.elem_type_ = ValueType::kString;
  r.data_ = std::move(v);
  return r;
}
Value Value::nested_array(std::vector<Value> v) {
  Value r;
  r.type_ = ValueType::kArray;
  r.elem_type_ = ValueType::kArray;
  r.data_ = std::move(v);
  return r;
}

std::optional<int64_t> Value::as_int() const {
  if (auto* p = std::get_if<int64_t>(&data_)) return *p;
  if (auto* p = std::get_if<uint64_t>(&data_)) {
    if (*p > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(*p);
  }
  if (auto* p = std::get_if<bool>(&data_)) return *p ? 1 : 0;
  return std::nullopt;
}

std::optional<uint64_t> Value::as_uint() const {
  if (auto* p = std::get_if<uint64_t>(&data_)) return *p;
  if (auto* p = std::get_if<int64_t>(&data_)) {
    if (*p < 0) return std::nullopt;
    return static_cast<uint64_t>(*p);
  }
  return std::nullopt;
}

std::optional<double> Value::as_float() const {
  if (auto* p = std::get_if<double>(&data_)) return *p;
  if (auto* p = std::get_if<int64_t>(&data_)) return static_cast<double>(*p);
  if (auto* p = std::get_if<uint64_t>(&data_)) return static_cast<double>(*p);
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (auto* p = std::get_if<bool>(&data_)) return *p;
  return std::nullopt;
}

const std::string* Value::as_string() const { return std::get_if<std::string>(&data_); }

size_t Value::size() const {
  return std::visit(
      [](const auto& v) -> size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<uint64_t>> ||
                      std::is_same_v<T, std::vector<double>> || std::is_same_v<T, std::vector<std::string>> ||
                      std::is_same_v<T, std::vector<Value>>)
          return v.size();
        else return 0;
      },
      data_);
}

const std::vector<std::string>* Value::strings() const { return std::get_if<std::vector<std::string>>(&data_); }
const std::vector<int64_t>* Value::ints() const { return std::get_if<std::vector<int64_t>>(&data_); }
const std::vector<uint64_t>* Value::uints() const { return std::get_if<std::vector<uint64_t>>(&data_); }
const std::vector<double>* Value::floats() const { return std::get_if<std::vector<double>>(&data_); }
const std::vector<Value>* Value::values() const { return std::get_if<std::vector<Value>>(&data_); }

namespace {
template <typename Vec, typename Fmt>
std::string render_items(const Vec& v, size_t max_items, Fmt f) {
  std::string out = "[";
  for (size_t i = 0; i < v.size() && i < max_items; ++i) {
    if (i) out += ", ";
    out += f(v[i]);
  }
  if (v.size() > max_items) out += fmt::format(", ... ({} items)", v.size());
  return out + "]";
}
}  // namespace

std::string Value::to_string(size_t max_items) const {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) return "null";
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>) return quote_text(v);
        else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t> || std::is_same_v<T, double>)
          return fmt::format("{}", v);
        else if constexpr (std::is_same_v<T, std::vector<std::string>>)
          return render_items(v, max_items, [](const std::string& s) { return quote_text(s); });
        else if constexpr (std::is_same_v<T, std::vector<Value>>)
          return render_items(v, max_items, [&](const Value& x) { return x.to_string(max_items); });
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          if (elem_type_ == ValueType::kBool)
            return render_items(v, max_items, [](int64_t x) { return std::string(x ? "true" : "false"); });
          return render_items(v, max_items, [](int64_t x) { return fmt::format("{}", x); });
        } else return render_items(v, max_items, [](auto x) { return fmt::format("{}", x); });
      },
      data_);
}

}  // namespace corral::gguf
