// Quoting untrusted text for messages and logs.
#pragma once

#include <string>
#include <string_view>

namespace corral {

// `s` in double quotes with \" \\ \n \r \t escaped, other ASCII control bytes and every byte
// that is not part of well-formed UTF-8 written as \xHH; valid UTF-8 characters pass through.
// The output is always valid UTF-8 whatever the input. Use this instead of fmt's "{:?}": fmt 9
// (Debian 12) aborts the process in its escaping code on a byte >= 0x80 that is not valid
// UTF-8, so "{:?}" on bytes from a file or the network is a crash.
std::string quote_text(std::string_view s);

}  // namespace corral
