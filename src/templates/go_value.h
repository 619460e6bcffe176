// The values a Go template computes with: a cheap handle onto JSON data (borrowed from the
// caller's document or owned), plus the Go formatting rules that turn values into text.
//
// Go's text/template runs over reflected Go values; corral runs it over JSON. The mapping:
//   JSON null / absent map key -> Go's nil interface ("<no value>" when printed, false)
//   integer / unsigned / float  -> int / uint / float64 (printed as Go's fmt %v does)
//   string, bool                -> string, bool
//   array                       -> slice (handles can be sub-slices without copying, so
//                                  `slice $.Messages $i` inside a range stays O(1))
//   object                      -> map (range visits keys in sorted order, as Go does)
// Arrays and objects print as Go's encoding/json would marshal them: Ollama gives its tool,
// tool-argument and property types String() methods that do exactly that, and those are the
// composite values templates print (`{{ .Function.Arguments }}`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::gotmpl {

// Insertion-ordered, so objects built by the chat layer keep Go's struct field order in JSON.
using Json = nlohmann::ordered_json;

enum class Kind { kMissing, kNull, kBool, kInt, kUint, kFloat, kString, kArray, kObject };

class Value {
 public:
  Value() = default;                // missing: Go's invalid reflect.Value
  static Value of(Json j);          // owns a fresh document (literals, function results)
  static Value ref(const Json& j);  // borrows: the caller keeps j alive while the value lives

  Kind kind() const;
  bool is_nil() const { return kind() == Kind::kMissing || kind() == Kind::kNull; }
  bool is_number() const;

  bool as_bool() const { return node_->get<bool>(); }
  int64_t as_int() const { return node_->get<int64_t>(); }
  uint64_t as_uint() const { return node_->get<uint64_t>(); }
  double as_float() const;  // any numeric kind
  const std::string& as_string() const { return node_->get_ref<const std::string&>(); }

  // Arrays (honouring sub-slice bounds), objects and strings (bytes, as Go counts).
  size_t size() const;
  Value element(size_t i) const;             // array element i of the view
  Value slice(size_t lo, size_t hi) const;   // sub-array view [lo, hi) of this view
  Value member(std::string_view key) const;  // object member; missing when absent
  // Object members sorted by key: Go ranges over maps in key order.
  std::vector<std::pair<const std::string*, Value>> sorted_members() const;

  // Go's truthiness: false, 0, "", empty array/object and nil are false.
  bool truth() const;

  const Json& node() const { return *node_; }

 private:
  Value(std::shared_ptr<const Json> node, size_t lo, size_t hi) : node_(std::move(node)), lo_(lo), hi_(hi) {}
  static Value wrap(std::shared_ptr<const Json> node);

  std::shared_ptr<const Json> node_;  // null: missing
  size_t lo_ = 0, hi_ = 0;            // view bounds when node_ is an array
};

// Text of a value as {{ value }} prints it: strings raw (text/template does not escape),
// nil as "<no value>", numbers as Go's %v, arrays/objects as Go JSON.
void append_printed(std::string& out, const Value& v);
// The same, but nil as "<nil>": how fmt.Sprint (print, printf %v) shows a nil interface.
std::string sprint(const Value& v);
// Go's encoding/json Marshal: compact, HTML-safe escapes (\u003c \u003e \u0026), invalid
// UTF-8 replaced by U+FFFD, floats in Go's shortest form.
void append_go_json(std::string& out, const Value& v);
// Go's %v for a float64: shortest round-trip digits, exponent form (1e+06) when the decimal
// exponent is below -4 or at least 6, as strconv's 'g' with precision -1 does.
std::string format_go_float(double f);
// Go's strconv.Quote for %q: double-quoted with Go escapes.
std::string go_quote(std::string_view s);
// Appends the UTF-8 encoding of a code point (<= U+10FFFF).
void append_utf8(std::string& out, uint32_t rune);

}  // namespace corral::gotmpl
