#include "server/ollama/host.h"

#include <cstdlib>

#include <fmt/format.h>

namespace corral::server {

std::string HostPort::url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

Result<HostPort> parse_ollama_host(const std::string& raw) {
  HostPort hp;
  std::string s = raw;
  // Trim blanks and quotes, as Ollama's envconfig does.
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\'')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '"' || s.front() == '\'')) s.erase(0, 1);
  if (s.empty()) return hp;
  std::string default_port = "11434";
  if (auto p = s.find("://"); p != std::string::npos) {
    hp.scheme = s.substr(0, p);
    s = s.substr(p + 3);
    if (hp.scheme == "http") default_port = "80";
    else if (hp.scheme == "https") default_port = "443";
    else return Status::errorf("OLLAMA_HOST: unsupported scheme \"{}\"", hp.scheme);
  }
  if (auto slash = s.find('/'); slash != std::string::npos) s = s.substr(0, slash);  // drop a path
  std::string host = s, port = default_port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos) return Status::errorf("OLLAMA_HOST: bad IPv6 address \"{}\"", raw);
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return Status::errorf("OLLAMA_HOST: bad address \"{}\"", raw);
      port = s.substr(close + 2);
    }
  } else if (auto colon = s.rfind(':'); colon != std::string::npos && s.find(':') == colon) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (!host.empty()) hp.host = host;
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end || p < 0 || p > 65535) return Status::errorf("OLLAMA_HOST: invalid port \"{}\"", port);
  hp.port = static_cast<int>(p);
  return hp;
}

Result<HostPort> ollama_host_from_env() {
  const char* v = std::getenv("OLLAMA_HOST");
  return parse_ollama_host(v ? v : "");
}

}  // namespace corral::server
