#include "tokenizer/utf8.h"

#include <array>

namespace corral::tokenizer_detail {
namespace {

constexpr uint32_t kReplacement = 0xFFFD;

enum class SeqState { kValid, kIncomplete, kInvalid };
struct SeqResult {
  SeqState state;
  size_t len;  // kValid: sequence length; kIncomplete: bytes present; kInvalid: bytes to replace
};

bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

// Classifies the sequence at s[0] by the well-formedness table of Unicode (Table 3-7): the
// allowed range of the second byte depends on the lead byte, which rules out overlong forms,
// surrogates and values past U+10FFFF.
SeqResult classify(std::string_view s) {
  const auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) return {SeqState::kValid, 1};
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {SeqState::kInvalid, 1};
  }
  for (size_t i = 1; i < need; ++i) {
    if (i >= s.size()) return {SeqState::kIncomplete, i};
    const auto b = static_cast<uint8_t>(s[i]);
    const bool ok = (i == 1) ? (b >= lo && b <= hi) : is_cont(b);
    if (!ok) return {SeqState::kInvalid, i};  // the valid prefix is one maximal subpart
  }
  return {SeqState::kValid, need};
}

struct ByteAlphabet {
  std::array<std::string, 256> to_char;
  std::array<int16_t, 0x144> to_byte;  // the alphabet's code points are all below U+0144

  ByteAlphabet() {
    to_byte.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the other 68 bytes (controls, space,
    // DEL, NBSP, soft hyphen) take the code points from U+0100 upward, in byte order.
    auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    uint32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = printable(b) ? static_cast<uint32_t>(b) : next++;
      append_utf8(to_char[b], cp);
      to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet kAlphabet;  // immutable after thread-safe static init
  return kAlphabet;
}

}  // namespace

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string to_valid_utf8_bytewise(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const SeqResult r = classify(text.substr(i));
    if (r.state == SeqState::kValid) {
      out.append(text.data() + i, r.len);
      i += r.len;
      continue;
    }
    // llama.cpp decodes by structure (lead byte + continuation bytes) and replaces one byte
    // when the structure is broken; a structurally complete but ill-formed sequence (overlong,
    // surrogate, > U+10FFFF) is consumed whole.
    const auto b0 = static_cast<uint8_t>(text[i]);
    size_t structural = 0;
    if ((b0 & 0xE0) == 0xC0) structural = 2;
    else if ((b0 & 0xF0) == 0xE0) structural = 3;
    else if ((b0 & 0xF8) == 0xF0) structural = 4;
    size_t consume = 1;
    if (structural > 0 && i + structural <= text.size()) {
      bool all_cont = true;
      for (size_t k = 1; k < structural; ++k) all_cont &= is_cont(static_cast<uint8_t>(text[i + k]));
      if (all_cont) consume = structural;
    }
    append_utf8(out, kReplacement);
    i += consume;
  }
  return out;
}

size_t utf8_valid_sequence(std::string_view s, bool* incomplete) {
  if (incomplete) *incomplete = false;
  if (s.empty()) return 0;
  const SeqResult r = classify(s);
  if (r.state == SeqState::kValid) return r.len;
  if (incomplete) *incomplete = (r.state == SeqState::kIncomplete);
  return 0;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const SeqResult r = classify(s.substr(i));
    if (r.state == SeqState::kValid) {
      out.append(s.data() + i, r.len);
    } else {
      append_utf8(out, kReplacement);
    }
    i += r.len;
  }
  return out;
}

size_t utf8_incomplete_tail(std::string_view s) {
  // A sequence is at most 4 bytes, so only a lead byte among the last 3 can be unfinished.
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto b = static_cast<uint8_t>(s[n - back]);
    if (is_cont(b)) continue;
    const SeqResult r = classify(s.substr(n - back));
    return r.state == SeqState::kIncomplete ? back : 0;
  }
  return 0;
}

const std::string& byte_to_bpe_char(uint8_t b) { return alphabet().to_char[b]; }

int bpe_char_to_byte(uint32_t cp) {
  if (cp >= alphabet().to_byte.size()) return -1;
  return alphabet().to_byte[cp];
}

uint32_t next_code_point(std::string_view s, size_t* pos) {
  const SeqResult r = classify(s.substr(*pos));
  if (r.state != SeqState::kValid) {
    *pos += 1;
    return kReplacement;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(s.data() + *pos);
  uint32_t cp;
  switch (r.len) {
    case 1: cp = p[0]; break;
    case 2: cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu); break;
    case 3: cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu); break;
    default: cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
  }
  *pos += r.len;
  return cp;
}

}  // namespace corral::tokenizer_detail
