#include "sampling/json_constraint.h"

#include <cstring>

#include "base/check.h"

namespace corral::sampling {
namespace {

enum StringSub : uint8_t {
  kPlain,
  kEscape,  // after '\'
  kHex1,
  kHex2,
  kHex3,
  kHex4,      // \uXXXX
  kLowSlash,  // a high surrogate was read: '\' must follow
  kLowU,      // then 'u'
  kLow1,
  kLow2,
  kLow3,
  kLow4,  // then DC00..DFFF
};
enum NumberSub : uint8_t {
  kMinus,    // "-"
  kZero,     // "0" or "-0": no more integer digits
  kInt,      // integer digits
  kDot,      // "."
  kFrac,     // fraction digits
  kExpMark,  // "e" / "E"
  kExpSign,  // "e+" / "e-"
  kExp,      // exponent digits
};

bool is_ws(uint8_t b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; }
bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
int hex_value(uint8_t b) {
  if (b >= '0' && b <= '9') return b - '0';
  if (b >= 'a' && b <= 'f') return b - 'a' + 10;
  if (b >= 'A' && b <= 'F') return b - 'A' + 10;
  return -1;
}
// limit 0 means unlimited.
bool within(int limit, uint32_t count) { return limit <= 0 || count < static_cast<uint32_t>(limit); }

}  // namespace

JsonConstraint::JsonConstraint(const JsonProgram* program) : h_{} {
  CORRAL_CHECK(program != nullptr);
  h_.program = program;
  h_.node = JsonProgram::kRoot;
  h_.mode = kValue;
}

void JsonConstraint::copy_from(const JsonConstraint& other) {
  h_ = other.h_;
  std::memcpy(frames_, other.frames_, sizeof(Frame) * other.h_.depth);
}

bool JsonConstraint::in_free_string() const {
  return h_.mode == kString && h_.sub == kPlain && h_.utf8.need == 0 &&
         (h_.key || node(h_.node).max_length == kUnbounded);
}

bool JsonConstraint::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (!step(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

bool JsonConstraint::step(uint8_t b) {
  // A string, number or literal either takes the byte, rejects it, or ends before it (numbers
  // and enum literals end only at the first byte that cannot extend them); then the byte is
  // read again as structure.
  for (;;) {
    Outcome r;
    switch (h_.mode) {
      case kString: r = string_byte(b); break;
      case kNumber: r = number_byte(b); break;
      case kLiteral: r = literal_byte(b); break;
      default: return structural(b);
    }
    if (r != kEnded) return r == kTaken;
  }
}

bool JsonConstraint::structural(uint8_t b) {
  if (is_ws(b)) {
    if (!within(h_.program->limits.max_ws_run, h_.ws_run)) return false;
    ++h_.ws_run;
    return true;
  }
  h_.ws_run = 0;
  const JsonProgram& p = *h_.program;
  switch (h_.mode) {
    case kValue: return start_value(b);
    case kArrayFirst: {
      Frame& f = top();
      const SchemaNode& n = node(f.node);
      if (b == ']') {
        if (n.min_items > 0) return false;
        --h_.depth;
        finish_value();
        return true;
      }
      if (n.max_items == 0) return false;
      f.count = 1;
      h_.node = n.items;
      return start_value(b);
    }
    case kObjectFirst:
    case kObjectKey: {
      const Frame& f = top();
      const SchemaNode& n = node(f.node);
      if (b == '}' && h_.mode == kObjectFirst) {
        if (required_left(f)) return false;
        --h_.depth;
        finish_value();
        return true;
      }
      if (b != '"') return false;
      if (f.kind == kMapFrame) {
        if (n.additional == kNoNode) return false;
        begin_string(/*key=*/true);
        return true;
      }
      // Properties come in schema order: any optional one up to the next required one.
      const uint32_t count = p.property_count(n);
      if (f.count >= count) return false;
      const uint32_t last = std::min(p.next_required(n, f.count) + 1, count);
      const uint32_t key0 = p.properties[n.prop_begin].key_literal;
      begin_literal(key0 + f.count, key0 + last, /*key=*/true);
      return literal_byte(b) == kTaken;
    }
    case kColon:
      if (b != ':') return false;
      h_.mode = kValue;
      return true;
    case kAfterValue: {
      Frame& f = top();
      const SchemaNode& n = node(f.node);
      if (f.kind == kArrayFrame) {
        if (b == ',' && f.count < n.max_items) {
          ++f.count;
          h_.node = n.items;
          h_.mode = kValue;
          return true;
        }
        if (b == ']' && f.count >= n.min_items) {
          --h_.depth;
          finish_value();
          return true;
        }
        return false;
      }
      if (b == ',') {
        if (f.kind == kPropsFrame && f.count >= p.property_count(n)) return false;
        h_.mode = kObjectKey;
        return true;
      }
      if (b == '}' && !required_left(f)) {
        --h_.depth;
        finish_value();
        return true;
      }
      return false;
    }
    default:  // kDone: only whitespace may follow
      return false;
  }
}

bool JsonConstraint::required_left(const Frame& f) const {
  if (f.kind != kPropsFrame) return false;
  const SchemaNode& n = node(f.node);
  return h_.program->next_required(n, f.count) < h_.program->property_count(n);
}

bool JsonConstraint::push(uint32_t id, FrameKind kind) {
  const int limit = h_.program->limits.max_depth > 0 ? h_.program->limits.max_depth : kMaxJsonDepth;
  if (h_.depth >= limit || h_.depth >= kMaxJsonDepth) return false;
  frames_[h_.depth++] = Frame{id, 0, kind};
  return true;
}

void JsonConstraint::finish_value() {
  h_.mode = h_.depth == 0 ? kDone : kAfterValue;
  h_.key = false;
}

void JsonConstraint::begin_string(bool key) {
  h_.mode = kString;
  h_.sub = kPlain;
  h_.key = key;
  h_.str_len = 0;
  h_.utf8 = Utf8Cursor{};
}

void JsonConstraint::begin_literal(uint32_t lo, uint32_t hi, bool key) {
  h_.mode = kLiteral;
  h_.lit_lo = h_.lit_cur = lo;
  h_.lit_hi = hi;
  h_.lit_pos = 0;
  h_.key = key;
}

bool JsonConstraint::start_value(uint8_t b) {
  const JsonProgram& p = *h_.program;
  uint32_t id = h_.node;
  // anyOf: the branches start with different bytes (checked at compile time), so the first
  // byte picks the branch.
  while (node(id).is_union()) {
    const SchemaNode& u = node(id);
    uint32_t chosen = kNoNode;
    for (uint32_t i = u.branch_begin; i < u.branch_end && chosen == kNoNode; ++i) {
      if (node(p.branches[i]).can_start(b)) chosen = p.branches[i];
    }
    if (chosen == kNoNode) return false;
    id = chosen;
  }
  const SchemaNode& n = node(id);
  if (!n.can_start(b)) return false;
  h_.node = id;
  if (n.is_enum) {
    begin_literal(n.lit_begin, n.lit_end, /*key=*/false);
    return literal_byte(b) == kTaken;
  }
  switch (b) {
    case '{':
      if (!push(id, n.has_properties ? kPropsFrame : kMapFrame)) return false;
      h_.mode = kObjectFirst;
      return true;
    case '[':
      if (!push(id, kArrayFrame)) return false;
      h_.mode = kArrayFirst;
      return true;
    case '"': begin_string(/*key=*/false); return true;
    case 't':
    case 'f': begin_literal(JsonProgram::kTrue, JsonProgram::kFalse + 1, false); return literal_byte(b) == kTaken;
    case 'n': begin_literal(JsonProgram::kNull, JsonProgram::kNull + 1, false); return literal_byte(b) == kTaken;
    default:  // '-' or a digit (can_start passed)
      h_.mode = kNumber;
      h_.digits = 1;
      h_.sub = b == '-' ? kMinus : b == '0' ? kZero : kInt;
      return true;
  }
}

JsonConstraint::Outcome JsonConstraint::string_byte(uint8_t b) {
  if (h_.utf8.need) return h_.utf8.step(b) ? kTaken : kRejected;
  switch (h_.sub) {
    case kPlain: return string_plain_byte(b);
    case kEscape: return string_escape_byte(b);
    case kHex1:
    case kHex2:
    case kHex3:
    case kHex4: return string_hex_byte(b);
    default: return string_low_surrogate_byte(b);  // kLowSlash .. kLow4
  }
}

JsonConstraint::Outcome JsonConstraint::string_plain_byte(uint8_t b) {
  // Keys have no length limits; h_.node is only meaningful for values.
  const uint32_t min_len = h_.key ? 0 : node(h_.node).min_length;
  const uint32_t max_len = h_.key ? kUnbounded : node(h_.node).max_length;
  if (b == '"') {
    if (h_.key) {
      // A map key: its value follows the map's additionalProperties schema.
      h_.node = node(top().node).additional;
      h_.mode = kColon;
      h_.key = false;
    } else {
      if (h_.str_len < min_len) return kRejected;
      finish_value();
    }
    return kTaken;
  }
  if (h_.str_len >= max_len) return kRejected;  // only the closing quote may follow
  if (b == '\\') {
    h_.sub = kEscape;
    return kTaken;
  }
  if (b < 0x20) return kRejected;                       // control characters must be escaped
  if (b >= 0x80 && !h_.utf8.step(b)) return kRejected;  // a lead byte starts a character
  ++h_.str_len;
  return kTaken;
}

JsonConstraint::Outcome JsonConstraint::string_escape_byte(uint8_t b) {
  switch (b) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      h_.sub = kPlain;
      ++h_.str_len;
      return kTaken;
    case 'u':
      h_.sub = kHex1;
      h_.hex = 0;
      return kTaken;
    default: return kRejected;
  }
}

JsonConstraint::Outcome JsonConstraint::string_hex_byte(uint8_t b) {
  const int v = hex_value(b);
  if (v < 0) return kRejected;
  // \uDC00..\uDFFF may only follow a high surrogate: reject at the second digit so the
  // state never reaches a dead end.
  if (h_.sub == kHex2 && h_.hex == 0xD && v >= 0xC) return kRejected;
  h_.hex = static_cast<uint16_t>(h_.hex * 16 + v);
  if (h_.sub != kHex4) {
    ++h_.sub;
    return kTaken;
  }
  if (h_.hex >= 0xD800 && h_.hex <= 0xDBFF) {
    h_.sub = kLowSlash;
  } else {
    h_.sub = kPlain;
    ++h_.str_len;
  }
  return kTaken;
}

JsonConstraint::Outcome JsonConstraint::string_low_surrogate_byte(uint8_t b) {
  switch (h_.sub) {
    case kLowSlash:
      if (b != '\\') return kRejected;
      h_.sub = kLowU;
      return kTaken;
    case kLowU:
      if (b != 'u') return kRejected;
      h_.sub = kLow1;
      return kTaken;
    case kLow1:
      if (b != 'd' && b != 'D') return kRejected;
      h_.sub = kLow2;
      return kTaken;
    case kLow2:
      if (hex_value(b) < 0xC) return kRejected;
      h_.sub = kLow3;
      return kTaken;
    case kLow3:
      if (hex_value(b) < 0) return kRejected;
      h_.sub = kLow4;
      return kTaken;
    default:  // kLow4
      if (hex_value(b) < 0) return kRejected;
      h_.sub = kPlain;
      ++h_.str_len;  // the pair is one code point
      return kTaken;
  }
}

JsonConstraint::Outcome JsonConstraint::number_byte(uint8_t b) {
  const JsonLimits& lim = h_.program->limits;
  const bool real = node(h_.node).types & kJsonNumber;  // fraction and exponent allowed
  const bool digit = is_digit(b);
  switch (h_.sub) {
    case kMinus:
      if (!digit) return kRejected;
      h_.sub = b == '0' ? kZero : kInt;
      h_.digits = 1;
      return kTaken;
    case kZero:
    case kInt:
    case kFrac:
      if (digit) {
        if (h_.sub == kZero) return kRejected;  // no leading zeros
        if (!within(h_.sub == kInt ? lim.max_int_digits : lim.max_frac_digits, h_.digits)) return kRejected;
        ++h_.digits;
        return kTaken;
      }
      if (b == '.' && real && h_.sub != kFrac) {
        h_.sub = kDot;
        return kTaken;
      }
      if ((b == 'e' || b == 'E') && real) {
        h_.sub = kExpMark;
        return kTaken;
      }
      finish_value();
      return kEnded;
    case kDot:
      if (!digit) return kRejected;
      h_.sub = kFrac;
      h_.digits = 1;
      return kTaken;
    case kExpMark:
      if (b == '+' || b == '-') {
        h_.sub = kExpSign;
        return kTaken;
      }
      [[fallthrough]];
    case kExpSign:
      if (!digit) return kRejected;
      h_.sub = kExp;
      h_.digits = 1;
      return kTaken;
    default:  // kExp
      if (digit) {
        if (!within(lim.max_exp_digits, h_.digits)) return kRejected;
        ++h_.digits;
        return kTaken;
      }
      finish_value();
      return kEnded;
  }
}

bool JsonConstraint::number_can_end() const {
  return h_.sub == kZero || h_.sub == kInt || h_.sub == kFrac || h_.sub == kExp;
}

JsonConstraint::Outcome JsonConstraint::literal_byte(uint8_t b) {
  const auto& lits = h_.program->literals;
  const std::string& cur = lits[h_.lit_cur];
  const size_t pos = h_.lit_pos;
  // lit_cur is the first candidate with the matched prefix; later ones may share it.
  for (uint32_t j = h_.lit_cur; j < h_.lit_hi; ++j) {
    const std::string& s = lits[j];
    if (s.size() > pos && static_cast<uint8_t>(s[pos]) == b &&
        (j == h_.lit_cur || std::memcmp(s.data(), cur.data(), pos) == 0)) {
      h_.lit_cur = j;
      ++h_.lit_pos;
      return kTaken;
    }
  }
  const uint32_t exact = exact_literal();
  if (exact == kNoNode) return kRejected;
  end_literal(exact);
  return kEnded;
}

uint32_t JsonConstraint::exact_literal() const {
  const auto& lits = h_.program->literals;
  const std::string& cur = lits[h_.lit_cur];
  for (uint32_t j = h_.lit_cur; j < h_.lit_hi; ++j) {
    const std::string& s = lits[j];
    if (s.size() == h_.lit_pos && std::memcmp(s.data(), cur.data(), h_.lit_pos) == 0) return j;
  }
  return kNoNode;
}

void JsonConstraint::end_literal(uint32_t literal) {
  if (!h_.key) {
    finish_value();
    if (h_.depth > 0) resolve_tag(literal);
    return;
  }
  Frame& f = top();
  const SchemaNode& n = node(f.node);
  const uint32_t index = literal - h_.program->properties[n.prop_begin].key_literal;
  f.count = index + 1;
  h_.node = h_.program->properties[n.prop_begin + index].node;
  h_.mode = kColon;
  h_.key = false;
}

void JsonConstraint::resolve_tag(uint32_t literal) {
  Frame& f = top();
  const SchemaNode& tagged = node(f.node);
  if (tagged.tag_begin == kNoNode) return;
  // The tagged object's only property is the discriminator, so this literal is its value: the
  // object goes on as the branch it names, past that branch's first property (count stays 1).
  const JsonProgram& p = *h_.program;
  const SchemaNode& discriminator = node(p.properties[tagged.prop_begin].node);
  f.node = p.tag_targets[tagged.tag_begin + (literal - discriminator.lit_begin)];
}

bool JsonConstraint::complete() const {
  switch (h_.mode) {
    case kDone: return true;
    case kNumber: return h_.depth == 0 && number_can_end();
    case kLiteral: return h_.depth == 0 && !h_.key && exact_literal() != kNoNode;
    default: return false;
  }
}

std::string JsonConstraint::bytes_to_complete() const {
  JsonConstraint m(h_.program);
  m.copy_from(*this);
  std::string out;
  // Each round emits at least one byte or closes one token; the shortest completion of any
  // state is bounded by the program (kMaxShortest per open value), so this terminates.
  while (!m.complete()) m.complete_step(out);
  return out;
}

// One move towards completion: emits bytes into out (stepping this object over them) or ends
// a number or literal whose text is already complete.
void JsonConstraint::complete_step(std::string& out) {
  const JsonProgram& p = *h_.program;
  auto emit = [&](std::string_view s) {
    for (char c : s) {
      CORRAL_CHECK(step(static_cast<uint8_t>(c)), "completion byte {:?} rejected", c);
      out.push_back(c);
    }
  };
  switch (h_.mode) {
    case kString: {
      if (h_.utf8.need) {
        emit(std::string(1, static_cast<char>(h_.utf8.lo)));
        return;
      }
      switch (h_.sub) {
        case kEscape: emit("n"); return;
        case kLowSlash: emit("\\"); return;
        case kLowU: emit("u"); return;
        case kLow1: emit("D"); return;
        case kLow2: emit("C"); return;
        case kPlain: emit(!h_.key && h_.str_len < node(h_.node).min_length ? "a" : "\""); return;
        default: emit("0"); return;  // hex digits; "0" never starts a surrogate
      }
    }
    case kNumber:
      if (number_can_end()) {
        finish_value();
      } else {
        emit("0");
      }
      return;
    case kLiteral: {
      if (uint32_t exact = exact_literal(); exact != kNoNode) {
        end_literal(exact);
        return;
      }
      // Continue along the shortest candidate that shares the matched prefix.
      const auto& lits = p.literals;
      const std::string& cur = lits[h_.lit_cur];
      const std::string* best = nullptr;
      for (uint32_t j = h_.lit_cur; j < h_.lit_hi; ++j) {
        const std::string& s = lits[j];
        if (s.size() > h_.lit_pos && std::memcmp(s.data(), cur.data(), h_.lit_pos) == 0 &&
            (!best || s.size() < best->size())) {
          best = &s;
        }
      }
      CORRAL_CHECK(best != nullptr);
      emit(best->substr(h_.lit_pos, 1));
      return;
    }
    case kValue: emit(node(h_.node).shortest); return;
    case kColon: emit(":"); return;
    case kDone: return;
    default: break;
  }
  // Inside a container: add what it still requires, then close it.
  const Frame& f = top();
  const SchemaNode& n = node(f.node);
  if (f.kind == kArrayFrame) {
    if (h_.mode == kArrayFirst) {
      emit(n.min_items > 0 ? node(n.items).shortest : "]");
    } else {
      emit(f.count < n.min_items ? "," : "]");
    }
    return;
  }
  if (f.kind == kMapFrame) {
    emit(h_.mode == kObjectKey ? "\"\":" + node(n.additional).shortest : "}");
    return;
  }
  const uint32_t required = p.next_required(n, f.count);
  const bool must_add = h_.mode == kObjectKey || required < p.property_count(n);
  if (!must_add) {
    emit("}");
    return;
  }
  if (h_.mode == kAfterValue) {
    emit(",");
    return;
  }
  const uint32_t index = required < p.property_count(n) ? required : f.count;
  const PropertySpec& prop = p.properties[n.prop_begin + index];
  emit(p.literals[prop.key_literal] + ":" + node(prop.node).shortest);
}

}  // namespace corral::sampling
