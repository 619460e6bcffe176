// GGUF metadata values: scalars, strings and (possibly nested) arrays, with their file types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace corral::gguf {

enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
constexpr uint32_t kValueTypeCount = 13;

const char* value_type_name(ValueType t);
// Bytes of one scalar of type t in a file (0 for string/array: variable length).
size_t value_type_size(ValueType t);
bool is_integer_type(ValueType t);
bool is_signed_type(ValueType t);

// A metadata value. Scalars keep their file type (so a writer round-trips exactly); integers
// are held widened (signed in int64, unsigned in uint64), floats in double.
class Value {
 public:
  Value() = default;

  // Scalar constructors.
  static Value from_int(ValueType t, int64_t v);    // t: any signed integer type
  static Value from_uint(ValueType t, uint64_t v);  // t: any unsigned integer type
  static Value from_float(ValueType t, double v);   // t: kFloat32 or kFloat64
  static Value from_bool(bool v);
  static Value from_string(std::string v);
  // Array constructors (element type given explicitly).
  static Value int_array(ValueType elem, std::vector<int64_t> v);
  static Value uint_array(ValueType elem, std::vector<uint64_t> v);
  static Value float_array(ValueType elem, std::vector<double> v);
  static Value bool_array(std::vector<bool> v);
  static Value string_array(std::vector<std::string> v);
  static Value nested_array(std::vector<Value> v);  // elements are arrays themselves

  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::kArray; }

  // Scalar access; nullopt when the value is not of a compatible kind.
  // as_int accepts any integer (and bool); unsigned values above INT64_MAX give nullopt.
  std::optional<int64_t> as_int() const;
  std::optional<uint64_t> as_uint() const;  // non-negative integers only
  std::optional<double> as_float() const;   // floats and integers
  std::optional<bool> as_bool() const;      // bool only
  const std::string* as_string() const;     // nullptr unless a string

  // Array access.
  ValueType elem_type() const { return elem_type_; }  // kArray for nested arrays
  size_t size() const;                                // elements (0 for scalars)
  const std::vector<std::string>* strings() const;    // string arrays
  const std::vector<int64_t>* ints() const;           // signed-int and bool arrays
  const std::vector<uint64_t>* uints() const;         // unsigned-int arrays
  const std::vector<double>* floats() const;          // float arrays
  const std::vector<Value>* values() const;           // nested arrays

  // Human-readable rendering (arrays abbreviated after `max_items`), for `corral show`/dumps.
  std::string to_string(size_t max_items = 8) const;

 private:
  ValueType type_ = ValueType::kUint8;
  ValueType elem_type_ = ValueType::kUint8;
  std::variant<std::monostate, int64_t, uint64_t, double, bool, std::string, std::vector<int64_t>,
               std::vector<uint64_t>, std::vector<double>, std::vector<std::string>, std::vector<Value>>
      data_;
};

}  // namespace corral::gguf
