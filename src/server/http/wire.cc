#include "server/http/wire.h"

#include <ctime>

#include <fmt/format.h>
#include <boost/beast/http/status.hpp>

namespace corral::http::wire {

namespace {

// RFC 9110 token characters: the only bytes allowed in a field name.
bool is_token_char(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

void append_header(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  for (char c : value) out->push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
  out->append("\r\n");
}

}  // namespace

bool is_managed_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection") ||
         iequals(name, "Keep-Alive") || iequals(name, "Date");
}

bool status_allows_body(int status) { return status >= 200 && status != 204 && status != 304; }

std::string_view reason_phrase(int status) {
  namespace bh = boost::beast::http;
  auto sv = bh::obsolete_reason(bh::int_to_status(static_cast<unsigned>(status)));
  std::string_view phrase(sv.data(), sv.size());
  // Beast answers "<unknown-status>" for unregistered codes; the phrase is informational only.
  return phrase.empty() || phrase.front() == '<' ? std::string_view("Unknown") : phrase;
}

std::string http_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  // The C locale's %a/%b are the English names HTTP requires.
  size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::string format_head(const Head& head) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", head.status, reason_phrase(head.status));
  append_header(&out, "Date", http_date(std::chrono::system_clock::now()));
  if (!head.content_type.empty()) append_header(&out, "Content-Type", head.content_type);
  for (const auto& [name, value] : head.headers) {
    if (!is_token(name) || is_managed_header(name)) continue;
    append_header(&out, name, value);
  }
  switch (head.framing) {
    case Framing::kContentLength: append_header(&out, "Content-Length", std::to_string(head.content_length)); break;
    case Framing::kChunked: append_header(&out, "Transfer-Encoding", "chunked"); break;
    case Framing::kUntilClose:
    case Framing::kNoBody: break;
  }
  if (head.close) append_header(&out, "Connection", "close");
  else if (head.http10_keep_alive) append_header(&out, "Connection", "keep-alive");
  out.append("\r\n");
  return out;
}

std::string chunk(std::string_view data) {
  std::string out = fmt::format("{:x}\r\n", data.size());
  out.reserve(out.size() + data.size() + 2);
  out.append(data);
  out.append("\r\n");
  return out;
}

}  // namespace corral::http::wire
