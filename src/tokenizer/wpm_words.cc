#include "tokenizer/wpm_words.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include "tokenizer/utf8.h"

namespace corral::tokenizer_detail {
namespace {

// Unicode's general categories, lower-casing and NFD come from ICU: llama.cpp's own tables
// (unicode-data.cpp, generated from Python's unicodedata) hold ~2,000 NFD ranges and ~1,400
// case mappings, too many to keep a copy of here. The few sets below are llama.cpp's own
// choices rather than Unicode data, so they are written out.

// White_Space code points (PropList.txt), which llama.cpp lists explicitly.
bool is_whitespace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// The CJK ideograph blocks of Hugging Face's BertTokenizer (_is_chinese_char), including its
// 0x2B920 start of extension E that llama.cpp copies (Unicode's is 0x2B820). Kana and Hangul
// are not in it: they stay inside words.
bool is_chinese_char(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

uint32_t category_mask(uint32_t c) { return c > 0x10FFFF ? 0 : U_GET_GC_MASK(static_cast<UChar32>(c)); }

// llama.cpp's "control" flag: categories Cc, Cf, Co and Cs (unassigned Cn is not).
bool is_control(uint32_t c) { return category_mask(c) & (U_GC_CC_MASK | U_GC_CF_MASK | U_GC_CO_MASK | U_GC_CS_MASK); }
bool is_punctuation(uint32_t c) { return category_mask(c) & U_GC_P_MASK; }
bool is_symbol(uint32_t c) { return category_mask(c) & U_GC_S_MASK; }

// The first code point of c's canonical decomposition (c itself when it has none): llama.cpp's
// unicode_cpts_normalize_nfd keeps one code point per input code point, so combining marks
// never appear and accents are gone.
uint32_t nfd_first(uint32_t c) {
  static const UNormalizer2* nfd = [] {
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2* n = unorm2_getNFDInstance(&err);
    return U_SUCCESS(err) ? n : nullptr;
  }();
  if (!nfd || c > 0x10FFFF) return c;
  UChar buf[32];  // the longest canonical decomposition is 4 code points (8 UTF-16 units)
  UErrorCode err = U_ZERO_ERROR;
  const int32_t len = unorm2_getDecomposition(nfd, static_cast<UChar32>(c), buf, 32, &err);
  if (U_FAILURE(err) || len <= 0) return c;
  UChar32 first;
  int32_t i = 0;
  U16_NEXT(buf, i, len, first);
  return static_cast<uint32_t>(first);
}

// Simple (one code point) lower-casing, as llama.cpp's table holds only the mappings where
// Python's str.lower() returns a single character: U+0130 (İ) lowers to two there, so it stays.
uint32_t to_lower(uint32_t c) {
  if (c == 0x130 || c > 0x10FFFF) return c;
  return static_cast<uint32_t>(u_tolower(static_cast<UChar32>(c)));
}

}  // namespace

std::vector<std::string> wpm_words(std::string_view text) {
  std::vector<std::string> words(1);
  for (size_t pos = 0; pos < text.size();) {
    const uint32_t c = nfd_first(next_code_point(text, &pos));
    if (is_whitespace(c)) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    std::string s;
    append_utf8(s, to_lower(c));
    // Flags are those of the decomposed, not yet lower-cased code point, as in llama.cpp.
    if (is_punctuation(c) || (c < 0x7F && is_symbol(c)) || is_chinese_char(c)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

}  // namespace corral::tokenizer_detail
