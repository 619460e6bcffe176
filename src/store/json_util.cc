#include "store/json_util.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace corral::store {

namespace {

using Json = nlohmann::ordered_json;

// Go's strconv.AppendFloat(f, 'f' or 'e', -1, 64): the shortest digits that round-trip.
std::string shortest(double v, std::chars_format f) {
  char buf[400];  // a fixed-notation double needs at most ~330 characters
  auto r = std::to_chars(buf, buf + sizeof(buf), v, f);
  return std::string(buf, r.ptr);
}

void encode_float(double v, std::string* out) {
  if (!std::isfinite(v)) {  // Go refuses these; the store never produces them
    *out += "null";
    return;
  }
  double a = std::fabs(v);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    std::string s = shortest(v, std::chars_format::scientific);
    // Go shortens a two-digit negative exponent "e-07" to "e-7" (encoding/json floatEncoder).
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    *out += s;
  } else {
    *out += shortest(v, std::chars_format::fixed);
  }
}

// Length of a valid UTF-8 sequence starting at s[i], or 0 when invalid (Go then writes U+FFFD).
size_t utf8_len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

void encode_string(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': *out += "\\\""; break;
        case '\\': *out += "\\\\"; break;
        case '\b': *out += "\\b"; break;
        case '\f': *out += "\\f"; break;
        case '\n': *out += "\\n"; break;
        case '\r': *out += "\\r"; break;
        case '\t': *out += "\\t"; break;
        default:
          // Control characters and Go's HTML-unsafe set get \u00XX.
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            *out += "\\u00";
            *out += kHex[c >> 4];
            *out += kHex[c & 0xF];
          } else {
            *out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    size_t n = utf8_len(s, i);
    if (n == 0) {
      *out += "\\ufffd";
      ++i;
      continue;
    }
    std::string_view seq = s.substr(i, n);
    if (seq == "\xE2\x80\xA8") {
      *out += "\\u2028";  // line/paragraph separators break JavaScript; Go escapes them
    } else if (seq == "\xE2\x80\xA9") {
      *out += "\\u2029";
    } else {
      *out += seq;
    }
    i += n;
  }
  *out += '"';
}

template <typename J>
void encode(const J& v, std::string* out) {
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded: *out += "null"; break;
    case Json::value_t::boolean: *out += v.template get<bool>() ? "true" : "false"; break;
    case Json::value_t::number_integer: *out += std::to_string(v.template get<int64_t>()); break;
    case Json::value_t::number_unsigned: *out += std::to_string(v.template get<uint64_t>()); break;
    case Json::value_t::number_float: encode_float(v.template get<double>(), out); break;
    case Json::value_t::string: encode_string(v.template get_ref<const std::string&>(), out); break;
    case Json::value_t::array: {
      *out += '[';
      bool first = true;
      for (const J& e : v) {
        if (!first) *out += ',';
        first = false;
        encode(e, out);
      }
      *out += ']';
      break;
    }
    case Json::value_t::object: {
      *out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) *out += ',';
        first = false;
        encode_string(it.key(), out);
        *out += ':';
        encode(it.value(), out);
      }
      *out += '}';
      break;
    }
    case Json::value_t::binary:
      *out += "null";  // never built by the store
      break;
  }
}

}  // namespace

Result<Json> parse_json(std::string_view text, const std::string& what) {
  Json j = Json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::errorf("{} is not valid JSON", what);
  return j;
}

std::string go_json_encode(const Json& value) {
  std::string out;
  encode(value, &out);
  out += '\n';
  return out;
}

std::string go_json_encode(const nlohmann::json& value) {
  std::string out;
  encode(value, &out);
  out += '\n';
  return out;
}

std::string go_format_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::string sci = shortest(v, std::chars_format::scientific);
  int exp = std::atoi(sci.c_str() + sci.find('e') + 1);
  // strconv's %g with the shortest precision switches to an exponent below 1e-4 or from 1e6 on.
  if (exp < -4 || exp >= 6) return sci;
  return shortest(v, std::chars_format::fixed);
}

double float32_as_json_double(float v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  double d = 0;
  std::from_chars(buf, r.ptr, d);
  return d;
}

}  // namespace corral::store
