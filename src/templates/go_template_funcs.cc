#include "templates/go_template_funcs.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>

#include <fmt/format.h>

namespace corral::gotmpl {
namespace {

// Go's reflect type names, for error messages that read like text/template's.
std::string go_type(const Value& v) {
  switch (v.kind()) {
    case Kind::kMissing:
    case Kind::kNull: return "<nil>";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kUint: return "uint";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kArray: return "[]interface {}";
    case Kind::kObject: return "map[string]interface {}";
  }
  return "?";
}

Status arity(std::string_view name, const std::vector<Value>& args, size_t want) {
  if (args.size() == want) return Status::ok();
  return Status::errorf("wrong number of args for {}: want {} got {}", name, want, args.size());
}
Status arity_at_least(std::string_view name, const std::vector<Value>& args, size_t want) {
  if (args.size() >= want) return Status::ok();
  return Status::errorf("wrong number of args for {}: want at least {} got {}", name, want, args.size());
}

// ---- comparison ---------------------------------------------------------------------------

bool is_integer(const Value& v) { return v.kind() == Kind::kInt || v.kind() == Kind::kUint; }

// Three-way numeric comparison; exact for integers of either signedness.
int compare_numbers(const Value& a, const Value& b) {
  if (is_integer(a) && is_integer(b)) {
    bool a_neg = a.kind() == Kind::kInt && a.as_int() < 0;
    bool b_neg = b.kind() == Kind::kInt && b.as_int() < 0;
    if (a_neg != b_neg) return a_neg ? -1 : 1;
    if (a_neg) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    uint64_t x = a.kind() == Kind::kInt ? static_cast<uint64_t>(a.as_int()) : a.as_uint();
    uint64_t y = b.kind() == Kind::kInt ? static_cast<uint64_t>(b.as_int()) : b.as_uint();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  double x = a.as_float(), y = b.as_float();
  return x < y ? -1 : x > y ? 1 : 0;
}

// Go's eq for one pair. nil equals only nil; mixed kinds are an error except that numbers
// compare by value (a documented leniency: JSON data does not carry Go's int/float split).
Result<bool> equal(const Value& a, const Value& b) {
  if (a.is_nil() || b.is_nil()) return a.is_nil() && b.is_nil();
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return Status::error("incompatible types for comparison");
  switch (a.kind()) {
    case Kind::kBool: return a.as_bool() == b.as_bool();
    case Kind::kString: return a.as_string() == b.as_string();
    default: return Status::errorf("non-comparable type {}", go_type(a));
  }
}

Result<bool> less(const Value& a, const Value& b) {
  auto ordered = [](const Value& v) { return v.is_number() || v.kind() == Kind::kString; };
  if (!ordered(a) || !ordered(b)) return Status::error("invalid type for comparison");
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) < 0;
  if (a.kind() != b.kind()) return Status::error("incompatible types for comparison");
  return a.as_string() < b.as_string();
}

Result<Value> eq(const std::vector<Value>& args) {
  CORRAL_RETURN_IF_ERROR(arity_at_least("eq", args, 1));
  if (args.size() < 2) return Status::error("missing argument for comparison");
  for (size_t i = 1; i < args.size(); ++i) {
    CORRAL_ASSIGN_OR_RETURN(bool same, equal(args[0], args[i]));
    if (same) return Value::of(true);
  }
  return Value::of(false);
}

// ---- len, index, slice --------------------------------------------------------------------

Result<size_t> index_arg(const Value& v, size_t cap) {
  int64_t x = 0;
  switch (v.kind()) {
    case Kind::kInt: x = v.as_int(); break;
    case Kind::kUint:
      x = v.as_uint() > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(v.as_uint());
      break;
    case Kind::kFloat:
      // JSON may spell an index 2.0; accept integral floats.
      if (std::floor(v.as_float()) != v.as_float() || std::fabs(v.as_float()) > 9e15)
        return Status::errorf("cannot index slice/array with type float64");
      x = static_cast<int64_t>(v.as_float());
      break;
    case Kind::kMissing:
    case Kind::kNull: return Status::error("cannot index slice/array with nil");
    default: return Status::errorf("cannot index slice/array with type {}", go_type(v));
  }
  if (x < 0 || static_cast<uint64_t>(x) > cap) return Status::errorf("index out of range: {}", x);
  return static_cast<size_t>(x);
}

Result<Value> len(const std::vector<Value>& args) {
  CORRAL_RETURN_IF_ERROR(arity("len", args, 1));
  const Value& v = args[0];
  switch (v.kind()) {
    case Kind::kString:
    case Kind::kArray:
    case Kind::kObject: return Value::of(static_cast<int64_t>(v.size()));
    case Kind::kMissing:
    case Kind::kNull: return Value::of(0);  // see go_template.h: nil slices have length 0
    default: return Status::errorf("len of type {}", go_type(v));
  }
}

Result<Value> index(const std::vector<Value>& args) {
  CORRAL_RETURN_IF_ERROR(arity_at_least("index", args, 1));
  Value v = args[0];
  for (size_t k = 1; k < args.size(); ++k) {
    const Value& ix = args[k];
    switch (v.kind()) {
      case Kind::kArray:
      case Kind::kString: {
        CORRAL_ASSIGN_OR_RETURN(size_t i, index_arg(ix, v.size()));
        if (i >= v.size()) return Status::errorf("index out of range: {}", i);
        v = v.kind() == Kind::kArray ? v.element(i)
                                     : Value::of(static_cast<int64_t>(static_cast<unsigned char>(v.as_string()[i])));
        break;
      }
      case Kind::kObject:
        if (ix.kind() != Kind::kString) return Status::errorf("value has type {}; should be string", go_type(ix));
        v = v.member(ix.as_string());
        break;
      case Kind::kMissing:
      case Kind::kNull: return Status::error("index of untyped nil");
      default: return Status::errorf("can't index item of type {}", go_type(v));
    }
  }
  return v;
}

Result<Value> slice(const std::vector<Value>& args) {
  CORRAL_RETURN_IF_ERROR(arity_at_least("slice", args, 1));
  const Value& v = args[0];
  size_t nidx = args.size() - 1;
  if (v.is_nil()) return Status::error("slice of untyped nil");
  if (nidx > 3) return Status::errorf("too many slice indexes: {}", nidx);
  if (v.kind() == Kind::kString && nidx == 3) return Status::error("cannot 3-index slice a string");
  if (v.kind() != Kind::kString && v.kind() != Kind::kArray)
    return Status::errorf("can't slice item of type {}", go_type(v));
  size_t idx[3] = {0, v.size(), v.size()};
  for (size_t k = 0; k < nidx; ++k) { CORRAL_ASSIGN_OR_RETURN(idx[k], index_arg(args[k + 1], v.size())); }
  if (idx[0] > idx[1]) return Status::errorf("invalid slice index: {} > {}", idx[0], idx[1]);
  if (nidx == 3 && idx[1] > idx[2]) return Status::errorf("invalid slice index: {} > {}", idx[1], idx[2]);
  if (v.kind() == Kind::kString) return Value::of(v.as_string().substr(idx[0], idx[1] - idx[0]));
  return v.slice(idx[0], idx[1]);
}

// ---- printing -----------------------------------------------------------------------------

// fmt.Sprint: a space between operands when neither side is a string.
Result<Value> print(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && args[i].kind() != Kind::kString && args[i - 1].kind() != Kind::kString) out += ' ';
    out += sprint(args[i]);
  }
  return Value::of(std::move(out));
}

Result<Value> println(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    out += sprint(args[i]);
  }
  return Value::of(out + "\n");
}

std::string bad_verb(char verb, const Value& v) { return fmt::format("%!{}({}={})", verb, go_type(v), sprint(v)); }

std::string format_verb(char verb, int precision, const Value& v) {
  switch (verb) {
    case 'v':
    case 's': return sprint(v);
    case 'q':
      if (v.kind() == Kind::kString) return go_quote(v.as_string());
      return bad_verb(verb, v);
    case 't':
      if (v.kind() == Kind::kBool) return v.as_bool() ? "true" : "false";
      return bad_verb(verb, v);
    case 'd':
      if (v.kind() == Kind::kInt) return std::to_string(v.as_int());
      if (v.kind() == Kind::kUint) return std::to_string(v.as_uint());
      return bad_verb(verb, v);
    case 'x':
    case 'X': {
      bool upper = verb == 'X';
      if (v.kind() == Kind::kInt) {
        int64_t i = v.as_int();
        uint64_t mag = i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
        return (i < 0 ? "-" : "") + (upper ? fmt::format("{:X}", mag) : fmt::format("{:x}", mag));
      }
      if (v.kind() == Kind::kUint) return upper ? fmt::format("{:X}", v.as_uint()) : fmt::format("{:x}", v.as_uint());
      if (v.kind() == Kind::kString) {
        std::string h;
        for (unsigned char c : v.as_string()) h += upper ? fmt::format("{:02X}", c) : fmt::format("{:02x}", c);
        return h;
      }
      return bad_verb(verb, v);
    }
    case 'f':
    case 'F':
    case 'e':
    case 'g':
      if (!v.is_number()) return bad_verb(verb, v);
      if (verb == 'g' && precision < 0) return format_go_float(v.as_float());
      {
        char buf[512];
        char spec[8] = {'%', '.', '*', verb == 'F' ? 'f' : verb, 0};
        std::snprintf(buf, sizeof buf, spec, precision < 0 ? 6 : std::min(precision, 100), v.as_float());
        return buf;
      }
    case 'c':
      if (is_integer(v)) {
        int64_t r = v.kind() == Kind::kInt ? v.as_int() : static_cast<int64_t>(v.as_uint());
        if (r < 0 || r > 0x10FFFF) r = 0xFFFD;  // Go prints U+FFFD for invalid runes
        std::string s;
        append_utf8(s, static_cast<uint32_t>(r));
        return s;
      }
      return bad_verb(verb, v);
    default: return bad_verb(verb, v);
  }
}

// fmt.Sprintf for the verbs templates use (%s %v %d %q %t %x %X %f %e %g %c %%), with
// flags '-' and '0', width and precision. Mismatches print Go's %!verb(type=value) forms.
Result<Value> printf(const std::vector<Value>& args) {
  CORRAL_RETURN_IF_ERROR(arity_at_least("printf", args, 1));
  if (args[0].kind() != Kind::kString)
    return Status::errorf("wrong type for value; expected string; got {}", go_type(args[0]));
  const std::string& f = args[0].as_string();
  std::string out;
  size_t next_arg = 1;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    bool left = false, zero = false;
    for (++i; i < f.size() && (f[i] == '-' || f[i] == '0' || f[i] == '+' || f[i] == ' ' || f[i] == '#'); ++i) {
      if (f[i] == '-') left = true;
      if (f[i] == '0') zero = true;
    }
    int width = 0, precision = -1;
    while (i < f.size() && f[i] >= '0' && f[i] <= '9') width = std::min(width * 10 + (f[i++] - '0'), 10000);
    if (i < f.size() && f[i] == '.') {
      precision = 0;
      for (++i; i < f.size() && f[i] >= '0' && f[i] <= '9'; ++i)
        precision = std::min(precision * 10 + (f[i] - '0'), 10000);
    }
    if (i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = f[i];
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (next_arg >= args.size()) {
      out += fmt::format("%!{}(MISSING)", verb);
      continue;
    }
    const Value& v = args[next_arg++];
    std::string s = format_verb(verb, precision, v);
    if (verb == 's' && v.kind() == Kind::kString && precision >= 0 && static_cast<size_t>(precision) < s.size())
      s.resize(static_cast<size_t>(precision));  // %.3s truncates (by bytes here; Go counts runes)
    if (static_cast<int>(s.size()) < width) {
      size_t pad = static_cast<size_t>(width) - s.size();
      if (left) s.append(pad, ' ');
      else if (zero && v.is_number()) s.insert(s[0] == '-' ? 1 : 0, pad, '0');
      else s.insert(0, pad, ' ');
    }
    out += s;
  }
  if (next_arg < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next_arg; k < args.size(); ++k) {
      if (k > next_arg) out += ", ";
      out += go_type(args[k]) + "=" + sprint(args[k]);
    }
    out += ")";
  }
  return Value::of(std::move(out));
}

Result<Value> html(const std::vector<Value>& args) {
  std::string s =
      args.size() == 1 && args[0].kind() == Kind::kString ? args[0].as_string() : print(args).value().as_string();
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out.push_back(c);
    }
  }
  return Value::of(std::move(out));
}

// Ollama's json: encoding/json.Marshal of the argument (errors yield "").
Result<Value> json(const std::vector<Value>& args) {
  CORRAL_RETURN_IF_ERROR(arity("json", args, 1));
  std::string out;
  append_go_json(out, args[0]);
  return Value::of(std::move(out));
}

// Ollama's currentDate/yesterdayDate: local date as YYYY-MM-DD; a format argument is accepted
// and ignored, as Ollama does.
Result<Value> local_date(int days_back) {
  std::time_t now = std::time(nullptr) - static_cast<std::time_t>(days_back) * 86400;
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return Value::of(std::string(buf));
}

std::string typescript_type(std::string_view json_type) {
  if (json_type == "string" || json_type == "boolean" || json_type == "null") return std::string(json_type);
  if (json_type == "number" || json_type == "integer") return "number";
  if (json_type == "array") return "any[]";
  if (json_type == "object") return "Record<string, any>";
  return "any";
}

// Ollama's toTypeScriptType: a tool property's JSON-schema type as TypeScript (gpt-oss style
// templates); anything that is not a property object is "any".
std::string typescript_type(const Value& p) {
  if (p.kind() != Kind::kObject) return "any";
  std::vector<std::string> parts;
  Value any_of = p.member("anyOf");
  Value type = p.member("type");
  if (any_of.kind() == Kind::kArray && any_of.size() > 0) {
    for (size_t i = 0; i < any_of.size(); ++i) parts.push_back(typescript_type(any_of.element(i)));
  } else if (type.kind() == Kind::kString) {
    parts.push_back(typescript_type(type.as_string()));
  } else if (type.kind() == Kind::kArray && type.size() > 0) {
    for (size_t i = 0; i < type.size(); ++i)
      parts.push_back(type.element(i).kind() == Kind::kString ? typescript_type(type.element(i).as_string()) : "any");
  } else {
    return "any";
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " | " : "") + parts[i];
  return out;
}

}  // namespace

FuncStatus function_status(std::string_view name) {
  static constexpr std::string_view kDefined[] = {"and",
                                                  "or",
                                                  "not",
                                                  "len",
                                                  "index",
                                                  "slice",
                                                  "eq",
                                                  "ne",
                                                  "lt",
                                                  "le",
                                                  "gt",
                                                  "ge",
                                                  "print",
                                                  "printf",
                                                  "println",
                                                  "html",
                                                  "json",
                                                  "currentDate",
                                                  "yesterdayDate",
                                                  "toTypeScriptType"};
  for (auto d : kDefined)
    if (d == name) return FuncStatus::kDefined;
  if (name == "call" || name == "js" || name == "urlquery") return FuncStatus::kUnsupported;
  return FuncStatus::kUnknown;
}

Result<Value> call_function(std::string_view name, const std::vector<Value>& args) {
  if (name == "eq") return eq(args);
  if (name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
    CORRAL_RETURN_IF_ERROR(arity(name, args, 2));
    if (name == "ne") {
      CORRAL_ASSIGN_OR_RETURN(bool same, equal(args[0], args[1]));
      return Value::of(!same);
    }
    CORRAL_ASSIGN_OR_RETURN(bool lt, less(args[0], args[1]));
    if (name == "lt") return Value::of(lt);
    if (name == "ge") return Value::of(!lt);
    CORRAL_ASSIGN_OR_RETURN(bool same, equal(args[0], args[1]));
    return Value::of(name == "le" ? (lt || same) : !(lt || same));
  }
  if (name == "not") {
    CORRAL_RETURN_IF_ERROR(arity("not", args, 1));
    return Value::of(!args[0].truth());
  }
  if (name == "len") return len(args);
  if (name == "index") return index(args);
  if (name == "slice") return slice(args);
  if (name == "print") return print(args);
  if (name == "printf") return printf(args);
  if (name == "println") return println(args);
  if (name == "html") return html(args);
  if (name == "json") return json(args);
  if (name == "currentDate") return local_date(0);
  if (name == "yesterdayDate") return local_date(1);
  if (name == "toTypeScriptType") {
    CORRAL_RETURN_IF_ERROR(arity(name, args, 1));
    return Value::of(typescript_type(args[0]));
  }
  return Status::errorf("\"{}\" is not a defined function", name);
}

}  // namespace corral::gotmpl
