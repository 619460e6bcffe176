// A small JSON Schema validator for the tests: the keywords the compiler supports, with the
// standard's semantics (not the generator's narrower choices), so generated output is checked
// against what the schema actually says.
#pragma once

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

namespace corral::sampling::testing {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

inline size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// "" when v is valid against schema; otherwise what is wrong and where.
inline std::string schema_errors(const json& v, const ojson& schema, const ojson& root, const std::string& at = "$") {
  if (schema.is_boolean()) return schema.get<bool>() ? "" : at + ": schema false";
  if (schema.contains("$ref")) {
    const std::string ref = schema["$ref"];
    return schema_errors(v, root.at(ojson::json_pointer(ref.substr(1))), root, at);
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema.contains(key)) continue;
    int matches = 0;
    for (const auto& branch : schema[key]) matches += schema_errors(v, branch, root, at).empty();
    if (matches == 0 || (std::string(key) == "oneOf" && matches > 1)) {
      return at + ": " + std::to_string(matches) + " " + key + " branches match";
    }
  }
  auto equal = [](const json& a, const ojson& b) { return a == json::parse(b.dump()); };
  if (schema.contains("const") && !equal(v, schema["const"])) return at + ": not the const value";
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || equal(v, e);
    if (!found) return at + ": not in enum";
  }
  if (schema.contains("type")) {
    auto is = [&](const std::string& t) {
      if (t == "null") return v.is_null();
      if (t == "boolean") return v.is_boolean();
      if (t == "integer")
        return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
      if (t == "number") return v.is_number();
      if (t == "string") return v.is_string();
      if (t == "array") return v.is_array();
      return v.is_object();
    };
    bool ok = false;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) ok = ok || is(t.get<std::string>());
    } else {
      ok = is(schema["type"].get<std::string>());
    }
    if (schema.value("nullable", false) && v.is_null()) ok = true;
    if (!ok) return at + ": wrong type " + v.type_name();
  }
  if (v.is_number() && schema.contains("minimum") && v.get<double>() < schema["minimum"].get<double>()) {
    return at + ": below minimum";
  }
  if (v.is_string()) {
    const size_t n = code_points(v.get<std::string>());
    if (schema.contains("minLength") && n < schema["minLength"].get<size_t>()) return at + ": too short";
    if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) return at + ": too long";
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) return at + ": too few items";
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) return at + ": too many items";
    if (schema.contains("items")) {
      for (size_t i = 0; i < v.size(); ++i) {
        auto e = schema_errors(v[i], schema["items"], root, at + "[" + std::to_string(i) + "]");
        if (!e.empty()) return e;
      }
    }
  }
  if (v.is_object()) {
    if (schema.contains("required")) {
      for (const auto& r : schema["required"]) {
        if (!v.contains(r.get<std::string>())) return at + ": missing " + r.get<std::string>();
      }
    }
    const ojson props = schema.value("properties", ojson::object());
    for (const auto& [k, val] : v.items()) {
      const std::string where = at + "." + k;
      if (props.contains(k)) {
        auto e = schema_errors(val, props[k], root, where);
        if (!e.empty()) return e;
      } else if (schema.contains("additionalProperties")) {
        auto e = schema_errors(val, schema["additionalProperties"], root, where);
        if (!e.empty()) return e;
      }
    }
  }
  return "";
}

}  // namespace corral::sampling::testing
