// UTF-8 helpers shared by the tokenizers and the streaming decoder, plus GPT-2's
// byte <-> printable-character mapping used by byte-level BPE vocabularies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corral::tokenizer_detail {

// Length of the sequence a lead byte announces, from its high nibble alone (1 for ASCII and
// for stray continuation bytes, 2/3/4 otherwise). SPM and BPE split their input into symbols
// this way, without validating, exactly as llama.cpp does.
inline size_t utf8_len_from_lead(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Appends the UTF-8 encoding of a code point (callers pass valid scalar values).
void append_utf8(std::string& out, uint32_t cp);

// Re-encodes `text` as valid UTF-8 for the regex pre-tokenizers, which run PCRE2 without
// per-call UTF checks. Invalid bytes become U+FFFD one byte at a time (llama.cpp's
// unicode_cpts_from_utf8 does the same); overlong forms, surrogates and values past
// U+10FFFF, which llama.cpp would pass on or throw on, also become U+FFFD.
std::string to_valid_utf8_bytewise(std::string_view text);

// Length of the well-formed UTF-8 sequence starting at s[0], or 0 if s does not start with
// one. `*incomplete` is set when the bytes so far are a valid prefix cut short by the end of s.
size_t utf8_valid_sequence(std::string_view s, bool* incomplete);

// Replaces ill-formed sequences with U+FFFD, one per maximal ill-formed subpart (the
// Unicode-recommended practice, as Python's errors="replace" does).
std::string sanitize_utf8(std::string_view s);

// Number of trailing bytes of s that form a valid but incomplete UTF-8 prefix (0..3): bytes a
// streaming decoder must hold back because the next token may complete them.
size_t utf8_incomplete_tail(std::string_view s);

// GPT-2's byte-level alphabet: every byte maps to one printable code point so that BPE
// vocabularies never contain raw spaces or control bytes (space -> U+0120 'Ġ', ...).
const std::string& byte_to_bpe_char(uint8_t b);  // its UTF-8 encoding
// Inverse for one code point; -1 if cp is not in the alphabet.
int bpe_char_to_byte(uint32_t cp);

// Decodes one code point of valid UTF-8 at s[*pos] and advances *pos; returns U+FFFD and
// advances one byte on malformed input.
uint32_t next_code_point(std::string_view s, size_t* pos);

}  // namespace corral::tokenizer_detail
