#include "sampling/json_schema.h"

#include <algorithm>
#include <set>

#include "base/check.h"

namespace corral::sampling {
namespace {

using ojson = nlohmann::ordered_json;

// Subschemas inside subschemas: the compiler recurses on them, and a request may hold a
// hostile schema, so bound the recursion well below any stack limit.
constexpr int kMaxSchemaNesting = 128;
// Nodes in one program: $refs are inlined, so a schema that reuses definitions many times over
// could otherwise grow exponentially.
constexpr size_t kMaxNodes = 100000;
// minItems / minLength: every value must be completable within a generation budget.
constexpr uint32_t kMaxMinimum = 4096;
// Bytes of the shortest complete value (what bytes_to_complete() may have to emit).
constexpr size_t kMaxShortest = 65536;

// Annotations: they do not restrict values, so they are ignored. "format" is an annotation
// by default since draft 2019-09; validators assert it only when asked to.
const std::set<std::string> kIgnored = {
    "title",    "description", "default", "examples", "$schema",     "$id",     "$comment",         "deprecated",
    "readOnly", "writeOnly",   "format",  "$defs",    "definitions", "$anchor", "contentMediaType", "contentEncoding"};
const std::set<std::string> kUnsupported = {"pattern",
                                            "patternProperties",
                                            "maximum",
                                            "exclusiveMinimum",
                                            "exclusiveMaximum",
                                            "multipleOf",
                                            "allOf",
                                            "not",
                                            "if",
                                            "then",
                                            "else",
                                            "dependentRequired",
                                            "dependentSchemas",
                                            "dependencies",
                                            "propertyNames",
                                            "minProperties",
                                            "maxProperties",
                                            "prefixItems",
                                            "additionalItems",
                                            "contains",
                                            "minContains",
                                            "maxContains",
                                            "unevaluatedProperties",
                                            "unevaluatedItems",
                                            "$dynamicRef",
                                            "$recursiveRef"};

void set_byte(std::array<uint64_t, 4>& bits, uint8_t b) { bits[b >> 6] |= uint64_t{1} << (b & 63); }

uint8_t type_of(const ojson& v) {
  switch (v.type()) {
    case ojson::value_t::null: return kJsonNull;
    case ojson::value_t::boolean: return kJsonBoolean;
    case ojson::value_t::number_integer:
    case ojson::value_t::number_unsigned: return kJsonInteger | kJsonNumber;
    case ojson::value_t::number_float: return kJsonNumber;
    case ojson::value_t::string: return kJsonString;
    case ojson::value_t::array: return kJsonArray;
    default: return kJsonObject;
  }
}

Result<uint8_t> parse_type_name(const ojson& v, const std::string& path) {
  if (!v.is_string()) return Status::errorf("{}: \"type\" entries must be strings", path);
  const std::string& s = v.get_ref<const std::string&>();
  if (s == "null") return uint8_t{kJsonNull};
  if (s == "boolean") return uint8_t{kJsonBoolean};
  if (s == "integer") return uint8_t{kJsonInteger};
  if (s == "number") return uint8_t{kJsonNumber | kJsonInteger};
  if (s == "string") return uint8_t{kJsonString};
  if (s == "array") return uint8_t{kJsonArray};
  if (s == "object") return uint8_t{kJsonObject};
  return Status::errorf("{}: unknown type \"{}\"", path, s);
}

Result<uint32_t> count_keyword(const ojson& s, const char* key, uint32_t fallback, const std::string& path) {
  auto it = s.find(key);
  if (it == s.end()) return fallback;
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    return Status::errorf("{}: \"{}\" must be a non-negative integer", path, key);
  }
  if (it->is_number_integer() && it->get<int64_t>() < 0) {
    return Status::errorf("{}: \"{}\" must be a non-negative integer", path, key);
  }
  const uint64_t v = it->get<uint64_t>();
  return v >= kUnbounded ? kUnbounded - 1 : static_cast<uint32_t>(v);
}

// Fills first_bytes and shortest of every node; children before parents.
class Finalizer {
 public:
  Finalizer(JsonProgram& p, const std::vector<std::string>& paths) : p_(p), paths_(paths) {}

  Status run() {
    done_.assign(p_.nodes.size(), false);
    SchemaNode& any = p_.nodes[JsonProgram::kAny];
    for (uint8_t b : std::string_view("ntf-0123456789\"[{")) set_byte(any.first_bytes, b);
    any.shortest = "0";
    done_[JsonProgram::kAny] = true;
    for (uint32_t id = 0; id < p_.nodes.size(); ++id) CORRAL_RETURN_IF_ERROR(visit(id));
    return Status::ok();
  }

 private:
  std::string path(uint32_t id) const { return id < paths_.size() ? paths_[id] : "#"; }

  Status visit(uint32_t id) {
    if (done_[id]) return Status::ok();
    // Children first. The graph is acyclic apart from kAny (recursive $refs are rejected), so
    // this recursion is bounded by the schema's nesting.
    const SchemaNode& n0 = p_.nodes[id];
    std::vector<uint32_t> children;
    for (uint32_t b = n0.branch_begin; b < n0.branch_end; ++b) children.push_back(p_.branches[b]);
    const std::vector<uint32_t> targets = tag_targets(n0);
    children.insert(children.end(), targets.begin(), targets.end());
    if (n0.items != kNoNode) children.push_back(n0.items);
    if (n0.additional != kNoNode) children.push_back(n0.additional);
    for (uint32_t i = n0.prop_begin; i < n0.prop_end; ++i) children.push_back(p_.properties[i].node);
    for (uint32_t c : children) CORRAL_RETURN_IF_ERROR(visit(c));

    SchemaNode& n = p_.nodes[id];
    std::vector<std::string> options;
    if (!targets.empty()) {
      // A tagged union: an object, as short as its shortest branch.
      set_byte(n.first_bytes, '{');
      for (uint32_t t : targets) options.push_back(p_.nodes[t].shortest);
    } else if (n.is_union()) {
      for (uint32_t b = n.branch_begin; b < n.branch_end; ++b) {
        const SchemaNode& br = p_.nodes[p_.branches[b]];
        for (int w = 0; w < 4; ++w) {
          const uint64_t overlap = n.first_bytes[w] & br.first_bytes[w];
          if (overlap) {
            const char c = static_cast<char>(w * 64 + __builtin_ctzll(overlap));
            return Status::errorf(
                "{}: anyOf/oneOf branches that can start with the same character ('{}') are not "
                "supported yet (branches must have different JSON types, or be objects whose first "
                "required property holds different constants)",
                path(id), c);
          }
          n.first_bytes[w] |= br.first_bytes[w];
        }
        options.push_back(br.shortest);
      }
    } else if (n.is_enum) {
      for (uint32_t l = n.lit_begin; l < n.lit_end; ++l) {
        set_byte(n.first_bytes, static_cast<uint8_t>(p_.literals[l][0]));
        options.push_back(p_.literals[l]);
      }
    } else {
      auto bytes = [&](std::string_view s) {
        for (uint8_t b : s) set_byte(n.first_bytes, b);
      };
      if (n.types & kJsonNull) {
        bytes("n");
        options.push_back("null");
      }
      if (n.types & kJsonBoolean) {
        bytes("tf");
        options.push_back("true");
      }
      if (n.types & (kJsonInteger | kJsonNumber)) {
        bytes(n.nonnegative ? "0123456789" : "-0123456789");
        options.push_back("0");
      }
      if (n.types & kJsonString) {
        bytes("\"");
        options.push_back("\"" + std::string(n.min_length, 'a') + "\"");
      }
      if (n.types & kJsonArray) {
        bytes("[");
        std::string s = "[";
        for (uint32_t i = 0; i < n.min_items; ++i) {
          if (i) s += ',';
          s += p_.nodes[n.items].shortest;
          if (s.size() > kMaxShortest) break;
        }
        options.push_back(s + "]");
      }
      if (n.types & kJsonObject) {
        bytes("{");
        std::string s = "{";
        bool first = true;
        for (uint32_t i = n.prop_begin; i < n.prop_end; ++i) {
          const PropertySpec& ps = p_.properties[i];
          if (ps.next_required != i - n.prop_begin) continue;  // optional
          if (!first) s += ',';
          first = false;
          s += p_.literals[ps.key_literal] + ":" + p_.nodes[ps.node].shortest;
          if (s.size() > kMaxShortest) break;
        }
        options.push_back(s + "}");
      }
    }
    if (options.empty()) return Status::errorf("{}: the schema admits no value", path(id));
    n.shortest = *std::min_element(options.begin(), options.end(),
                                   [](const auto& a, const auto& b) { return a.size() < b.size(); });
    if (n.shortest.size() > kMaxShortest) {
      return Status::errorf("{}: the shortest valid value is longer than {} bytes", path(id), kMaxShortest);
    }
    done_[id] = true;
    return Status::ok();
  }

  // The branches a tagged union can continue as (none for other nodes).
  std::vector<uint32_t> tag_targets(const SchemaNode& n) const {
    if (n.tag_begin == kNoNode) return {};
    const SchemaNode& discriminator = p_.nodes[p_.properties[n.prop_begin].node];
    std::vector<uint32_t> out(p_.tag_targets.begin() + n.tag_begin,
                              p_.tag_targets.begin() + n.tag_begin + (discriminator.lit_end - discriminator.lit_begin));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  JsonProgram& p_;
  const std::vector<std::string>& paths_;
  std::vector<bool> done_;
};

class SchemaCompiler {
 public:
  SchemaCompiler(const ojson& doc, const JsonLimits& limits) : doc_(doc), p_(std::make_shared<JsonProgram>()) {
    p_->limits = limits;
    p_->literals = {"true", "false", "null"};
    add_node(SchemaNode{}, "#");  // the root, filled in at the end
    SchemaNode any;
    any.types = kJsonAnyType;
    any.items = JsonProgram::kAny;
    any.additional = JsonProgram::kAny;
    add_node(any, "(any)");
  }

  Result<std::shared_ptr<const JsonProgram>> run() {
    CORRAL_ASSIGN_OR_RETURN(uint32_t root, compile(doc_, "#", 0, 0));
    p_->nodes[JsonProgram::kRoot] = p_->nodes[root];
    paths_[JsonProgram::kRoot] = paths_[root];
    CORRAL_RETURN_IF_ERROR(Finalizer(*p_, paths_).run());
    return std::shared_ptr<const JsonProgram>(p_);
  }

 private:
  Result<uint32_t> add_node(SchemaNode n, std::string path) {
    if (p_->nodes.size() >= kMaxNodes) {
      return Status::errorf("{}: the schema expands to more than {} nodes", path, kMaxNodes);
    }
    p_->nodes.push_back(std::move(n));
    paths_.push_back(std::move(path));
    return static_cast<uint32_t>(p_->nodes.size() - 1);
  }

  // Whether `key` is a minimum/maximum on an integer that no integer of at most
  // limits.max_int_digits digits can cross, so it restricts nothing and compiles as an
  // annotation. zod 4 writes every z.int() as {"type": "integer", "minimum": -(2^53 - 1),
  // "maximum": 2^53 - 1}, which the agent libraries send as tool parameters. Integers only:
  // numbers have exponents and reach past any digit count.
  bool bound_within_limits(const ojson& s, const std::string& key, const ojson& value) const {
    if ((key != "minimum" && key != "maximum") || !value.is_number() || p_->limits.max_int_digits <= 0) return false;
    auto t = s.find("type");
    if (t == s.end()) return false;
    const auto integer_or_null = [](const ojson& name) { return name == "integer" || name == "null"; };
    const bool integer = t->is_array() ? std::all_of(t->begin(), t->end(), integer_or_null) &&
                                             std::find(t->begin(), t->end(), "integer") != t->end()
                                       : *t == "integer";
    if (!integer) return false;
    // The largest magnitude an integer of max_int_digits digits has (as a double it may round
    // up, which only makes the test stricter).
    double largest = 1;
    for (int i = 0; i < p_->limits.max_int_digits; ++i) largest *= 10;
    largest -= 1;
    const double bound = value.get<double>();
    return key == "maximum" ? bound >= largest : bound <= -largest;
  }

  Result<uint32_t> compile(const ojson& s, const std::string& path, int depth, int nesting) {
    if (nesting > kMaxSchemaNesting) {
      return Status::errorf("{}: the schema nests deeper than {} levels", path, kMaxSchemaNesting);
    }
    if (s.is_boolean()) {
      if (s.get<bool>()) return JsonProgram::kAny;
      return Status::errorf("{}: the schema false admits no value", path);
    }
    if (!s.is_object()) return Status::errorf("{}: a schema must be an object or a boolean", path);
    if (auto it = s.find("$ref"); it != s.end()) return compile_ref(*it, path, depth, nesting);

    for (const auto& [key, value] : s.items()) {
      if (bound_within_limits(s, key, value)) continue;
      if (kUnsupported.count(key)) return Status::errorf("{}: \"{}\" is not supported yet", path, key);
      if (key == "uniqueItems" && value.is_boolean() && value.get<bool>()) {
        return Status::errorf("{}: \"uniqueItems\": true is not supported yet", path);
      }
      if (key == "minimum" && !(value.is_number() && value.get<double>() == 0.0)) {
        return Status::errorf("{}: \"minimum\" other than 0 is not supported yet", path);
      }
    }
    const bool any_of = s.contains("anyOf"), one_of = s.contains("oneOf");
    if (any_of || one_of) return compile_union(s, path, depth, nesting, any_of ? "anyOf" : "oneOf");

    SchemaNode n;
    const bool typed = s.contains("type");
    if (typed) {
      const ojson& t = s["type"];
      if (t.is_array()) {
        if (t.empty()) return Status::errorf("{}: \"type\" must not be an empty array", path);
        for (const auto& e : t) {
          CORRAL_ASSIGN_OR_RETURN(uint8_t bit, parse_type_name(e, path));
          n.types |= bit;
        }
      } else {
        CORRAL_ASSIGN_OR_RETURN(n.types, parse_type_name(t, path));
      }
    } else {
      // No "type": the keywords present say what the value is meant to be (as llama.cpp's
      // converter infers); with none of them any value goes.
      for (const char* k : {"properties", "required", "additionalProperties"}) {
        if (s.contains(k)) n.types |= kJsonObject;
      }
      for (const char* k : {"items", "minItems", "maxItems"}) {
        if (s.contains(k)) n.types |= kJsonArray;
      }
      for (const char* k : {"minLength", "maxLength"}) {
        if (s.contains(k)) n.types |= kJsonString;
      }
      if (n.types == 0) n.types = kJsonAnyType;
    }
    if (auto it = s.find("nullable"); it != s.end() && it->is_boolean() && it->get<bool>()) { n.types |= kJsonNull; }
    if (s.contains("enum") || s.contains("const")) { return compile_enum(s, std::move(n), typed, path); }
    // Only minimum 0 and bounds the limits already keep got this far.
    if (auto it = s.find("minimum"); it != s.end() && it->is_number() && it->get<double>() == 0.0) n.nonnegative = true;

    CORRAL_ASSIGN_OR_RETURN(n.min_length, count_keyword(s, "minLength", 0, path));
    CORRAL_ASSIGN_OR_RETURN(n.max_length, count_keyword(s, "maxLength", kUnbounded, path));
    if (n.min_length > n.max_length) return Status::errorf("{}: minLength > maxLength", path);
    if (n.min_length > kMaxMinimum) {
      return Status::errorf("{}: minLength above {} is not supported", path, kMaxMinimum);
    }
    CORRAL_ASSIGN_OR_RETURN(n.min_items, count_keyword(s, "minItems", 0, path));
    CORRAL_ASSIGN_OR_RETURN(n.max_items, count_keyword(s, "maxItems", kUnbounded, path));
    if (n.min_items > n.max_items) return Status::errorf("{}: minItems > maxItems", path);
    if (n.min_items > kMaxMinimum) {
      return Status::errorf("{}: minItems above {} is not supported", path, kMaxMinimum);
    }

    if ((n.types & (kJsonArray | kJsonObject)) && depth + 1 > p_->limits.max_depth) {
      return Status::errorf("{}: the schema nests containers deeper than {} levels", path, p_->limits.max_depth);
    }
    if (n.types & kJsonArray) {
      n.items = JsonProgram::kAny;
      if (auto it = s.find("items"); it != s.end()) {
        if (it->is_array()) return Status::errorf("{}: \"items\" as an array (tuples) is not supported yet", path);
        CORRAL_ASSIGN_OR_RETURN(n.items, compile(*it, path + "/items", depth + 1, nesting + 1));
      }
    }
    if (n.types & kJsonObject) CORRAL_RETURN_IF_ERROR(compile_object(s, n, path, depth, nesting));
    if (n.types == kJsonAnyType && !n.nonnegative && n.min_length == 0 && n.max_length == kUnbounded &&
        n.min_items == 0 && n.max_items == kUnbounded && n.items == JsonProgram::kAny && !n.has_properties &&
        n.additional == JsonProgram::kAny) {
      return JsonProgram::kAny;
    }
    return add_node(std::move(n), path);
  }

  Status compile_object(const ojson& s, SchemaNode& n, const std::string& path, int depth, int nesting) {
    struct Property {
      std::string name;
      const ojson* schema;  // null: required but not described, so any value
    };
    std::vector<Property> props;
    if (auto it = s.find("properties"); it != s.end()) {
      if (!it->is_object()) return Status::errorf("{}: \"properties\" must be an object", path);
      for (const auto& [name, sub] : it->items()) props.push_back({name, &sub});
    }
    std::set<std::string> required;
    if (auto it = s.find("required"); it != s.end()) {
      if (!it->is_array()) return Status::errorf("{}: \"required\" must be an array of strings", path);
      for (const auto& r : *it) {
        if (!r.is_string()) return Status::errorf("{}: \"required\" must be an array of strings", path);
        const std::string& name = r.get_ref<const std::string&>();
        if (!required.insert(name).second) continue;
        auto listed = [&](const Property& p) { return p.name == name; };
        if (std::find_if(props.begin(), props.end(), listed) == props.end()) props.push_back({name, nullptr});
      }
    }
    if (props.empty()) {
      // A map: any keys, values as additionalProperties says.
      n.additional = JsonProgram::kAny;
      if (auto it = s.find("additionalProperties"); it != s.end()) {
        if (it->is_boolean() && !it->get<bool>()) {
          n.additional = kNoNode;
        } else {
          CORRAL_ASSIGN_OR_RETURN(n.additional, compile(*it, path + "/additionalProperties", depth + 1, nesting + 1));
        }
      }
      return Status::ok();
    }
    // Required properties first, then optional ones, each group in schema order: the order
    // llama.cpp's schema converter (and so Ollama) generates. Only listed properties are
    // generated: whatever additionalProperties allows is never needed for a valid object.
    std::stable_partition(props.begin(), props.end(), [&](const Property& p) { return required.count(p.name) > 0; });
    n.has_properties = true;
    const uint32_t key_begin = static_cast<uint32_t>(p_->literals.size());
    for (const auto& p : props) p_->literals.push_back(ojson(p.name).dump());  // contiguous keys
    std::vector<uint32_t> nodes;
    for (const auto& p : props) {
      if (!p.schema) {
        nodes.push_back(JsonProgram::kAny);
        continue;
      }
      CORRAL_ASSIGN_OR_RETURN(uint32_t id, compile(*p.schema, path + "/properties/" + p.name, depth + 1, nesting + 1));
      nodes.push_back(id);
    }
    n.prop_begin = static_cast<uint32_t>(p_->properties.size());
    const uint32_t count = static_cast<uint32_t>(props.size());
    for (uint32_t i = 0; i < count; ++i) p_->properties.push_back({key_begin + i, nodes[i], count});
    n.prop_end = n.prop_begin + count;
    uint32_t next = count;
    for (uint32_t i = count; i-- > 0;) {
      if (required.count(props[i].name)) next = i;
      p_->properties[n.prop_begin + i].next_required = next;
    }
    return Status::ok();
  }

  Result<uint32_t> compile_enum(const ojson& s, SchemaNode n, bool typed, const std::string& path) {
    if (s.contains("enum") && s.contains("const")) {
      return Status::errorf("{}: \"enum\" together with \"const\" is not supported yet", path);
    }
    std::vector<ojson> values;
    if (auto it = s.find("const"); it != s.end()) {
      values.push_back(*it);
    } else {
      const ojson& e = s["enum"];
      if (!e.is_array() || e.empty()) return Status::errorf("{}: \"enum\" must be a non-empty array", path);
      values.assign(e.begin(), e.end());
    }
    std::vector<std::string> texts;
    for (const auto& v : values) {
      if (typed && !(type_of(v) & n.types)) continue;  // can never validate against "type"
      std::string text = v.dump();
      if (std::find(texts.begin(), texts.end(), text) == texts.end()) texts.push_back(std::move(text));
    }
    if (texts.empty()) return Status::errorf("{}: no enum value has the allowed type", path);
    n.is_enum = true;
    n.lit_begin = static_cast<uint32_t>(p_->literals.size());
    for (auto& t : texts) p_->literals.push_back(std::move(t));
    n.lit_end = static_cast<uint32_t>(p_->literals.size());
    return add_node(std::move(n), path);
  }

  Result<uint32_t> compile_union(const ojson& s, const std::string& path, int depth, int nesting, const char* keyword) {
    for (const auto& [key, value] : s.items()) {
      if (key != keyword && !kIgnored.count(key)) {
        return Status::errorf("{}: \"{}\" combined with \"{}\" is not supported yet", path, keyword, key);
      }
    }
    const ojson& list = s[keyword];
    if (!list.is_array() || list.empty()) {
      return Status::errorf("{}: \"{}\" must be a non-empty array", path, keyword);
    }
    std::vector<uint32_t> ids;
    for (size_t i = 0; i < list.size(); ++i) {
      CORRAL_ASSIGN_OR_RETURN(uint32_t id,
                              compile(list[i], fmt::format("{}/{}/{}", path, keyword, i), depth, nesting + 1));
      ids.push_back(id);
    }
    CORRAL_ASSIGN_OR_RETURN(ids, merge_tagged_objects(std::move(ids), path));
    if (ids.size() == 1) return ids[0];
    SchemaNode n;
    n.branch_begin = static_cast<uint32_t>(p_->branches.size());
    p_->branches.insert(p_->branches.end(), ids.begin(), ids.end());
    n.branch_end = static_cast<uint32_t>(p_->branches.size());
    return add_node(std::move(n), path);
  }

  // Object branches all start with '{', so the recogniser cannot pick one at the first byte. When
  // each of them lists the same required property first (objects emit required properties
  // first, in schema order) with constants no other branch uses, they become one tagged object
  // whose only property is that discriminator: once its value is read, the object continues as
  // the branch that value names (JsonConstraint::resolve_tag). Anything else is left for the
  // Finalizer to report.
  Result<std::vector<uint32_t>> merge_tagged_objects(std::vector<uint32_t> ids, const std::string& path) {
    std::vector<uint32_t> objects;
    for (uint32_t id : ids) {
      if (p_->nodes[id].types & kJsonObject) objects.push_back(id);
    }
    if (objects.size() < 2) return ids;
    uint32_t key_literal = kNoNode;
    for (uint32_t id : objects) {
      const SchemaNode& n = p_->nodes[id];
      if (n.is_union() || n.is_enum || n.types != kJsonObject || !n.has_properties) return ids;
      const PropertySpec& first = p_->properties[n.prop_begin];
      if (first.next_required != 0 || !p_->nodes[first.node].is_enum) return ids;
      if (key_literal == kNoNode) key_literal = first.key_literal;
      if (p_->literals[first.key_literal] != p_->literals[key_literal]) return ids;
    }
    SchemaNode discriminator;
    discriminator.is_enum = true;
    discriminator.lit_begin = static_cast<uint32_t>(p_->literals.size());
    const uint32_t tag_begin = static_cast<uint32_t>(p_->tag_targets.size());
    std::set<std::string> seen;
    for (uint32_t id : objects) {
      const SchemaNode& branch = p_->nodes[id];
      const SchemaNode& value = p_->nodes[p_->properties[branch.prop_begin].node];
      for (uint32_t l = value.lit_begin; l < value.lit_end; ++l) {
        std::string text = p_->literals[l];
        if (!seen.insert(text).second) return ids;  // two branches share a constant: ambiguous
        p_->literals.push_back(std::move(text));
        // A nested tagged union hands over its own branches, so one switch always suffices.
        const uint32_t target =
            branch.tag_begin == kNoNode ? id : p_->tag_targets[branch.tag_begin + (l - value.lit_begin)];
        p_->tag_targets.push_back(target);
      }
    }
    discriminator.lit_end = static_cast<uint32_t>(p_->literals.size());
    CORRAL_ASSIGN_OR_RETURN(uint32_t value_id, add_node(std::move(discriminator), path + "/(discriminator)"));
    SchemaNode tagged;
    tagged.types = kJsonObject;
    tagged.has_properties = true;
    tagged.tag_begin = tag_begin;
    tagged.prop_begin = static_cast<uint32_t>(p_->properties.size());
    p_->properties.push_back({key_literal, value_id, /*next_required=*/0});
    tagged.prop_end = tagged.prop_begin + 1;
    CORRAL_ASSIGN_OR_RETURN(uint32_t tagged_id, add_node(std::move(tagged), path));
    std::vector<uint32_t> merged;
    for (uint32_t id : ids) {
      if (!(p_->nodes[id].types & kJsonObject)) {
        merged.push_back(id);
      } else if (id == objects.front()) {
        merged.push_back(tagged_id);
      }
    }
    return merged;
  }

  Result<uint32_t> compile_ref(const ojson& ref, const std::string& path, int depth, int nesting) {
    if (!ref.is_string() || ref.get_ref<const std::string&>().rfind('#', 0) != 0) {
      return Status::errorf("{}: only local \"$ref\" values (\"#/...\") are supported", path);
    }
    const std::string& target = ref.get_ref<const std::string&>();
    if (active_refs_.count(target)) {
      return Status::errorf("{}: recursive \"$ref\" {} is not supported yet", path, target);
    }
    ojson::json_pointer pointer(target.substr(1));
    if (!doc_.contains(pointer)) return Status::errorf("{}: \"$ref\" {} does not resolve", path, target);
    // Inlined: the target compiles again at this depth, so nesting limits stay exact.
    active_refs_.insert(target);
    auto id = compile(doc_.at(pointer), target, depth, nesting + 1);
    active_refs_.erase(target);
    return id;
  }

  const ojson& doc_;
  std::shared_ptr<JsonProgram> p_;
  std::vector<std::string> paths_;  // [node] schema location, for error messages
  std::set<std::string> active_refs_;
};

}  // namespace

std::shared_ptr<const JsonProgram> json_any_program(bool root_object, const JsonLimits& limits) {
  auto program = compile_json_schema(root_object ? ojson{{"type", "object"}} : ojson::object(), limits);
  CORRAL_CHECK(program.is_ok(), "{}", program.error());
  return std::move(program).value();
}

Result<std::shared_ptr<const JsonProgram>> compile_json_schema(const ojson& schema, const JsonLimits& limits) {
  JsonLimits l = limits;
  if (l.max_depth == 0) l.max_depth = kMaxJsonDepth;
  if (l.max_depth < 0 || l.max_depth > kMaxJsonDepth) {
    return Status::errorf("JSON nesting limit must be in [0, {}]", kMaxJsonDepth);
  }
  try {
    return SchemaCompiler(schema, l).run();
  } catch (const nlohmann::json::exception& e) {
    // Malformed pointers in $ref, strings that are not UTF-8, ...
    return Status::errorf("invalid JSON schema: {}", e.what());
  }
}

Result<std::shared_ptr<const JsonProgram>> compile_json_schema(std::string_view text, const JsonLimits& limits) {
  ojson schema = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return Status::error("the JSON schema is not valid JSON");
  return compile_json_schema(schema, limits);
}

}  // namespace corral::sampling
