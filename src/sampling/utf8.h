// UTF-8 well-formedness one byte at a time (RFC 3629), shared by the JSON recogniser and the
// vocabulary trie so both agree on which byte sequences can appear inside a JSON string.
#pragma once

#include <cstdint>

namespace corral::sampling {

struct Utf8Cursor {
  uint8_t need = 0;   // continuation bytes still to come
  uint8_t lo = 0x80;  // allowed range of the next continuation byte
  uint8_t hi = 0xBF;

  // Advances over b; false if b cannot come next in well-formed UTF-8. The first continuation
  // byte's range excludes overlong forms (E0, F0), surrogates (ED) and code points above
  // U+10FFFF (F4).
  bool step(uint8_t b) {
    if (need) {
      if (b < lo || b > hi) return false;
      --need;
      lo = 0x80;
      hi = 0xBF;
      return true;
    }
    if (b < 0x80) return true;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return false;  // a stray continuation byte, C0/C1 or F5..FF
    }
    return true;
  }
};

}  // namespace corral::sampling
