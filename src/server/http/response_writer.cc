#include "server/http/response_writer.h"

#include <fmt/format.h>

#include "base/quote.h"

namespace corral::http {

void ResponseWriter::respond(int status, std::string content_type, std::string body, HeaderList extra_headers) {
  start(status, std::move(content_type), std::move(extra_headers), /*chunked=*/false);
  write(std::move(body));
  finish();
}

void ResponseWriter::start_sized(int status, std::string content_type, uint64_t, HeaderList extra_headers) {
  start(status, std::move(content_type), std::move(extra_headers), /*chunked=*/true);
}

void ResponseWriter::respond_error(int status, std::string_view message) {
  respond(status, "application/json; charset=utf-8", json_error_body(message));
}

// Always valid UTF-8 JSON: bytes that are not well-formed UTF-8 (a request path, a header, a
// name from a model file echoed in an error) become U+FFFD, as nlohmann's replace handler does.
std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default: break;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
      ++i;
      continue;
    }
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for one bad byte
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out.push_back('"');
  return out;
}

std::string json_error_body(std::string_view message) { return "{\"error\":" + json_quote(message) + "}"; }

std::string sse_event(std::string_view data, std::string_view event) {
  std::string out;
  if (!event.empty()) out += fmt::format("event: {}\n", event);
  // A newline inside data would end the field early; SSE splits multi-line data into several
  // data: lines, which the client joins back with '\n'.
  while (true) {
    size_t nl = data.find('\n');
    out += "data: ";
    out += data.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) break;
    data = data.substr(nl + 1);
  }
  out += '\n';
  return out;
}

}  // namespace corral::http
