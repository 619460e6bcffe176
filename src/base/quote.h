// Quoting untrusted text for messages and logs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace corral {

// `s` in double quotes with \" \\ \n \r \t escaped, other ASCII control bytes and every byte
// that is not part of well-formed UTF-8 written as \xHH; valid UTF-8 characters pass through.
// The output is always valid UTF-8 whatever the input. Use this instead of fmt's "{:?}": fmt 9
// (Debian 12) aborts the process in its escaping code on a byte >= 0x80 that is not valid
// UTF-8, so "{:?}" on bytes from a file or the network is a crash.
std::string quote_text(std::string_view s);

// Length of the well-formed UTF-8 sequence at s[i] (1 for ASCII; RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 if the bytes there are not one. i < s.size().
size_t utf8_sequence_length(std::string_view s, size_t i);

}  // namespace corral
