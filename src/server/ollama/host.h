// OLLAMA_HOST, parsed as Ollama's envconfig.Host does: "host", "host:port", ":port",
// "scheme://host:port", default 127.0.0.1:11434 (http:// alone defaults the port to 80,
// https:// to 443).
#pragma once

#include <string>

#include "base/status.h"

namespace corral::server {

struct HostPort {
  std::string scheme = "http";
  std::string host = "127.0.0.1";
  int port = 11434;
  // "http://host:port", IPv6 hosts bracketed.
  std::string url() const;
};

Result<HostPort> parse_ollama_host(const std::string& value);
// From the environment (unset or empty: the default).
Result<HostPort> ollama_host_from_env();

}  // namespace corral::server
