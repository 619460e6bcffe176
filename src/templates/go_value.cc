#include "templates/go_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace corral::gotmpl {

// ---- Value -------------------------------------------------------------------------------

Value Value::wrap(std::shared_ptr<const Json> node) {
  size_t n = node->is_array() ? node->size() : 0;
  return Value(std::move(node), 0, n);
}

Value Value::of(Json j) { return wrap(std::make_shared<const Json>(std::move(j))); }

Value Value::ref(const Json& j) {
  // Aliasing constructor with an empty owner: a non-owning handle.
  return wrap(std::shared_ptr<const Json>(std::shared_ptr<const Json>(), &j));
}

Kind Value::kind() const {
  if (!node_) return Kind::kMissing;
  switch (node_->type()) {
    case Json::value_t::boolean: return Kind::kBool;
    case Json::value_t::number_integer: return Kind::kInt;
    case Json::value_t::number_unsigned: return Kind::kUint;
    case Json::value_t::number_float: return Kind::kFloat;
    case Json::value_t::string: return Kind::kString;
    case Json::value_t::array: return Kind::kArray;
    case Json::value_t::object: return Kind::kObject;
    default: return Kind::kNull;  // null, binary, discarded
  }
}

bool Value::is_number() const {
  Kind k = kind();
  return k == Kind::kInt || k == Kind::kUint || k == Kind::kFloat;
}

double Value::as_float() const {
  switch (kind()) {
    case Kind::kInt: return static_cast<double>(as_int());
    case Kind::kUint: return static_cast<double>(as_uint());
    default: return node_->get<double>();
  }
}

size_t Value::size() const {
  switch (kind()) {
    case Kind::kArray: return hi_ - lo_;
    case Kind::kObject: return node_->size();
    case Kind::kString: return as_string().size();
    default: return 0;
  }
}

Value Value::element(size_t i) const { return wrap(std::shared_ptr<const Json>(node_, &(*node_)[lo_ + i])); }

Value Value::slice(size_t lo, size_t hi) const { return Value(node_, lo_ + lo, lo_ + hi); }

Value Value::member(std::string_view key) const {
  auto it = node_->find(std::string(key));
  if (it == node_->end()) return Value();
  return wrap(std::shared_ptr<const Json>(node_, &*it));
}

std::vector<std::pair<const std::string*, Value>> Value::sorted_members() const {
  std::vector<std::pair<const std::string*, Value>> out;
  out.reserve(node_->size());
  for (auto it = node_->begin(); it != node_->end(); ++it)
    out.emplace_back(&it.key(), wrap(std::shared_ptr<const Json>(node_, &it.value())));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  return out;
}

bool Value::truth() const {
  switch (kind()) {
    case Kind::kMissing:
    case Kind::kNull: return false;
    case Kind::kBool: return as_bool();
    case Kind::kInt: return as_int() != 0;
    case Kind::kUint: return as_uint() != 0;
    case Kind::kFloat: return as_float() != 0.0;
    case Kind::kString:
    case Kind::kArray:
    case Kind::kObject: return size() != 0;
  }
  return false;
}

// ---- number formatting -------------------------------------------------------------------

namespace {

// Shortest round-trip decimal digits of |f| and the exponent of its first digit
// (f = 0.d1d2d3... * 10^(exp+1)), taken from to_chars' shortest scientific form.
struct Digits {
  std::string digits;
  int exp = 0;
};

Digits shortest_digits(double f) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(f), std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  size_t e = s.find('e');
  Digits d;
  for (char c : s.substr(0, e))
    if (c != '.') d.digits.push_back(c);
  d.exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  return d;
}

std::string fixed_form(const Digits& d) {
  std::string out;
  int n = static_cast<int>(d.digits.size());
  if (d.exp < 0) {
    out = "0.";
    out.append(static_cast<size_t>(-d.exp - 1), '0');
    out += d.digits;
  } else if (d.exp + 1 >= n) {
    out = d.digits;
    out.append(static_cast<size_t>(d.exp + 1 - n), '0');
  } else {
    out = d.digits.substr(0, static_cast<size_t>(d.exp + 1)) + "." + d.digits.substr(static_cast<size_t>(d.exp + 1));
  }
  return out;
}

// min_exp_digits: Go's %e writes at least two exponent digits; JSON trims "e-07" to "e-7".
std::string exponent_form(const Digits& d, int min_exp_digits) {
  std::string out(1, d.digits[0]);
  if (d.digits.size() > 1) out += "." + d.digits.substr(1);
  out += d.exp < 0 ? "e-" : "e+";
  std::string e = std::to_string(std::abs(d.exp));
  if (static_cast<int>(e.size()) < min_exp_digits) e.insert(0, "0");
  return out + e;
}

std::string special_float(double f) {
  if (std::isnan(f)) return "NaN";
  return f > 0 ? "+Inf" : "-Inf";
}

std::string format_json_float(double f) {
  if (!std::isfinite(f)) return "null";  // Go refuses to marshal these; null is the safe text
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  Digits d = shortest_digits(f);
  double a = std::fabs(f);
  // encoding/json switches to exponent form outside [1e-6, 1e21), with a minimal exponent.
  std::string body = (a < 1e-6 || a >= 1e21) ? exponent_form(d, 1) : fixed_form(d);
  return f < 0 ? "-" + body : body;
}

// ---- UTF-8 -------------------------------------------------------------------------------

// Decodes one rune at s[i]; returns its length, or 0 when the bytes are not valid UTF-8.
size_t decode_rune(std::string_view s, size_t i, uint32_t& rune) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  if (n == 1) {
    rune = c;
    return 1;
  }
  rune = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    rune = (rune << 6) | (b(k) & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (rune < kMin[n] || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return 0;
  return n;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          // Go escapes control characters and, for HTML safety, < > &.
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t rune = 0;
    size_t n = decode_rune(s, i, rune);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else if (rune == 0x2028 || rune == 0x2029) {
      out += rune == 0x2028 ? "\\u2028" : "\\u2029";
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out.push_back('"');
}

}  // namespace

std::string format_go_float(double f) {
  if (!std::isfinite(f)) return special_float(f);
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  Digits d = shortest_digits(f);
  std::string body = (d.exp < -4 || d.exp >= 6) ? exponent_form(d, 2) : fixed_form(d);
  return f < 0 ? "-" + body : body;
}

// ---- printing ----------------------------------------------------------------------------

void append_go_json(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::kMissing:
    case Kind::kNull: out += "null"; return;
    case Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Kind::kInt: out += std::to_string(v.as_int()); return;
    case Kind::kUint: out += std::to_string(v.as_uint()); return;
    case Kind::kFloat: out += format_json_float(v.as_float()); return;
    case Kind::kString: append_json_string(out, v.as_string()); return;
    case Kind::kArray:
      out.push_back('[');
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out.push_back(',');
        append_go_json(out, v.element(i));
      }
      out.push_back(']');
      return;
    case Kind::kObject: {
      out.push_back('{');
      bool first = true;
      for (auto it = v.node().begin(); it != v.node().end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, it.key());
        out.push_back(':');
        append_go_json(out, Value::ref(it.value()));
      }
      out.push_back('}');
      return;
    }
  }
}

void append_printed(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::kMissing:
    case Kind::kNull: out += "<no value>"; return;
    case Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Kind::kInt: out += std::to_string(v.as_int()); return;
    case Kind::kUint: out += std::to_string(v.as_uint()); return;
    case Kind::kFloat: out += format_go_float(v.as_float()); return;
    case Kind::kString: out += v.as_string(); return;
    case Kind::kArray:
    case Kind::kObject: append_go_json(out, v); return;
  }
}

std::string sprint(const Value& v) {
  if (v.is_nil()) return "<nil>";
  std::string out;
  append_printed(out, v);
  return out;
}

void append_utf8(std::string& out, uint32_t r) {
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

std::string go_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t rune = 0;
    size_t n = decode_rune(s, i, rune);
    if (n == 0) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      ++i;
      continue;
    }
    // Approximates unicode.IsPrint: C1 controls and line/paragraph separators are escaped.
    if (rune < 0xA0 || rune == 0x2028 || rune == 0x2029 || rune == 0xFEFF) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(rune));
      out += buf;
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out.push_back('"');
  return out;
}

}  // namespace corral::gotmpl
