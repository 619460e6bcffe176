// A JSON Schema subset compiled into a flat program that JsonConstraint (json_constraint.h)
// runs byte by byte. Supported: type (and type arrays, nullable), properties + required,
// additionalProperties, items, minItems/maxItems, minLength/maxLength, enum/const, anyOf/oneOf
// whose branches start with different characters or are objects told apart by a discriminator
// (their first required property holds different constants: a tool call's "name", a
// {"type": "circle", ...} | {"type": "square", ...} union), local $ref ("#/..."), minimum: 0, and integer
// minimum/maximum bounds that JsonLimits::max_int_digits already keeps (zod's z.int()).
// Anything else that constrains values is reported as an error naming the keyword;
// annotations (title, description, format, ...) are ignored.
//
// Generation choices (always valid, never the only valid output):
// - object properties come in a fixed order: the required ones, then the optional ones (any
//   of which may be skipped), each group in the order the schema lists them; no properties
//   beyond those listed (llama.cpp's schema converter, which Ollama uses, does the same);
// - enum/const values, property names and integers are written in canonical compact form.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::sampling {

// Bit set of the JSON types a node admits.
enum JsonType : uint8_t {
  kJsonNull = 1,
  kJsonBoolean = 2,
  kJsonInteger = 4,  // integer syntax only: -?(0|[1-9][0-9]*)
  kJsonNumber = 8,   // full number syntax (fraction, exponent)
  kJsonString = 16,
  kJsonArray = 32,
  kJsonObject = 64,
};
constexpr uint8_t kJsonAnyType = 127;

// Bounds that keep generation finite and parseable. 0 means unlimited (the recogniser then
// accepts exactly what a JSON parser accepts, up to kMaxJsonDepth).
struct JsonLimits {
  // Whitespace bytes in a row. 22 = llama.cpp's schema grammar budget ("\n" x2 + 20 spaces or
  // tabs): enough to pretty-print, not enough for a model to loop on whitespace.
  int max_ws_run = 22;
  // Container nesting; 0 means kMaxJsonDepth. 32 is far beyond any useful document while
  // keeping each recogniser copy small.
  int max_depth = 32;
  // Digits before the point. 15 keeps every integer exact in a double and an int64, so
  // parsers read it as the integer it looks like.
  int max_int_digits = 15;
  // Digits after the point: 15 is more than a double resolves.
  int max_frac_digits = 15;
  // Exponent digits: 2 keeps |exponent| <= 99, far from double overflow (1e308).
  int max_exp_digits = 2;
};
constexpr int kMaxJsonDepth = 64;  // frames a JsonConstraint can hold

constexpr uint32_t kUnbounded = 0xffffffffu;
constexpr uint32_t kNoNode = 0xffffffffu;

struct SchemaNode {
  uint8_t types = 0;            // JsonType bits (ignored for enums and unions)
  bool nonnegative = false;     // numbers without a minus sign (minimum: 0)
  bool is_enum = false;         // value is one of literals[lit_begin, lit_end)
  bool has_properties = false;  // object with a fixed property list; else a map
  uint32_t lit_begin = 0, lit_end = 0;
  uint32_t branch_begin = 0, branch_end = 0;         // anyOf: node ids in branches[begin, end)
  uint32_t min_length = 0, max_length = kUnbounded;  // strings, in code points
  uint32_t items = kNoNode;                          // array item node
  uint32_t min_items = 0, max_items = kUnbounded;
  uint32_t prop_begin = 0, prop_end = 0;  // properties[begin, end) when has_properties
  uint32_t additional = kNoNode;          // map value node; kNoNode: only {}
  // Tagged object union: one property (the discriminator, an enum); once its value, literal L,
  // is read the object continues as node tag_targets[tag_begin + L - enum.lit_begin].
  uint32_t tag_begin = kNoNode;
  std::array<uint64_t, 4> first_bytes{};  // bytes that can start a value of this node
  std::string shortest;                   // a shortest complete value

  bool is_union() const { return branch_end > branch_begin; }
  bool can_start(uint8_t b) const { return (first_bytes[b >> 6] >> (b & 63)) & 1; }
};

struct PropertySpec {
  uint32_t key_literal;    // index in literals: the name as a JSON string, quotes included
  uint32_t node;           // value schema
  uint32_t next_required;  // index (within its object) of the first required property >= this
};

struct JsonProgram {
  static constexpr uint32_t kRoot = 0;
  static constexpr uint32_t kAny = 1;  // any JSON value
  // Literal indices of true, false, null.
  static constexpr uint32_t kTrue = 0, kFalse = 1, kNull = 2;

  std::vector<SchemaNode> nodes;
  std::vector<std::string> literals;  // canonical JSON texts (enum values, property names)
  std::vector<PropertySpec> properties;
  std::vector<uint32_t> branches;
  std::vector<uint32_t> tag_targets;  // per discriminator literal of a tagged union: its branch
  JsonLimits limits;

  const SchemaNode& node(uint32_t id) const { return nodes[id]; }
  uint32_t property_count(const SchemaNode& n) const { return n.prop_end - n.prop_begin; }
  // Index of the first required property at or after property i of object n (count if none).
  uint32_t next_required(const SchemaNode& n, uint32_t i) const {
    return i < property_count(n) ? properties[n.prop_begin + i].next_required : property_count(n);
  }
};

// Any JSON value; with root_object the top level must be an object (Ollama's format "json",
// whose grammar's root is an object).
std::shared_ptr<const JsonProgram> json_any_program(bool root_object, const JsonLimits& limits = {});

// Compiles a schema. Use ordered_json (or the text overload) so properties keep the order the
// schema lists them in.
Result<std::shared_ptr<const JsonProgram>> compile_json_schema(const nlohmann::ordered_json& schema,
                                                               const JsonLimits& limits = {});
Result<std::shared_ptr<const JsonProgram>> compile_json_schema(std::string_view schema_text,
                                                               const JsonLimits& limits = {});

}  // namespace corral::sampling
