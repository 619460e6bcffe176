// Helpers for the hostile-input tests (hostile_*_test.cc): a raw HTTP/1.1 exchange over a
// loopback socket (bytes exactly as given: no URL normalisation, any header bytes), error
// bodies of either API style, UTF-8 validity, and deep-nesting generators.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace corral::testing::hostile {

struct RawResponse {
  int status = 0;  // 0: no parsable answer (connection refused or closed early)
  std::string head, body;
};

// Sends `request` (a complete HTTP/1.1 request; it should say "Connection: close") to
// 127.0.0.1:port and reads until the server closes. 30 s receive timeout.
inline RawResponse raw_exchange(int port, const std::string& request) {
  RawResponse out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return out;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string all;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return out;
  out.status = std::stoi(all.substr(9, 3));
  out.head = all.substr(0, end);
  out.body = all.substr(end + 4);
  return out;
}

// A request line and headers for `method target`, with a body when given.
inline std::string raw_request(const std::string& method, const std::string& target, const std::string& body = "",
                               const std::string& extra_headers = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers;
  if (!body.empty() || method == "POST" || method == "PUT")
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
inline bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (int k = 1; k <= n; ++k) {
      if (i + static_cast<size_t>(k) >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

// The message of an error body: Ollama's {"error": "..."}, OpenAI's {"error": {"message"}},
// or the registry's {"errors": [{"message"}]}. Empty when the body is none of these.
inline std::string error_message(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  if (auto e = j.find("error"); e != j.end()) {
    if (e->is_string()) return e->get<std::string>();
    if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
      return (*e)["message"].get<std::string>();
  }
  if (auto e = j.find("errors"); e != j.end() && e->is_array() && !e->empty() && (*e)[0].is_object())
    return (*e)[0].value("message", "");
  return "";
}

// n nested arrays ("[[[...]]]") or objects ({"a":{"a":...{}}}).
inline std::string nested_arrays(int n) { return std::string(n, '[') + std::string(n, ']'); }
inline std::string nested_objects(int n) {
  std::string out;
  out.reserve(static_cast<size_t>(n) * 6 + 2);
  for (int i = 0; i < n; ++i) out += "{\"a\":";
  out += "{}";
  out.append(static_cast<size_t>(n), '}');
  return out;
}

// `body` with the JSON string "<placeholder>" (as dumped) replaced by raw JSON text.
inline std::string splice(const nlohmann::json& body, const std::string& placeholder, const std::string& raw) {
  std::string text = body.dump();
  const std::string quoted = "\"" + placeholder + "\"";
  const size_t at = text.find(quoted);
  if (at == std::string::npos) return text;
  return text.replace(at, quoted.size(), raw);
}

}  // namespace corral::testing::hostile
