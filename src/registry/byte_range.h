// HTTP byte ranges (RFC 9110 section 14) as the registry protocol uses them: the Range header of
// a blob GET (answered 206 with Content-Range), and Content-Range on the client side to check
// that a 206 carries the bytes that were asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corral::registry {

struct ByteRange {
  int64_t first = 0;  // inclusive
  int64_t last = 0;   // inclusive
  int64_t length() const { return last - first + 1; }
};

enum class RangeRequest {
  kWhole,          // no Range header, or one we may ignore (multiple ranges, other units):
                   // answer 200 with the whole body, as RFC 9110 allows
  kRange,          // one satisfiable range: answer 206
  kUnsatisfiable,  // answer 416 with "Content-Range: bytes */<size>"
};

// Interprets a Range header value ("bytes=0-99", "bytes=100-", "bytes=-50") for a body of
// `size` bytes; the last byte is clamped to size-1 as the RFC says.
RangeRequest parse_range_header(std::string_view value, int64_t size, ByteRange* out);

// "bytes <first>-<last>/<size>"
std::string content_range(const ByteRange& r, int64_t size);

// Parses a Content-Range value "bytes <first>-<last>/<size or *>"; nullopt when malformed.
// `size` is -1 for "*".
struct ContentRange {
  ByteRange range;
  int64_t size = -1;
};
std::optional<ContentRange> parse_content_range(std::string_view value);

}  // namespace corral::registry
