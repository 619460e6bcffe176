#include "loadtest/bench_target.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

#include <fmt/format.h>

#include "server/ollama/host.h"

namespace corral::cli::bench {

bool is_loopback_host(const std::string& host) {
  if (host == "0.0.0.0" || host == "::" || host == "localhost") return true;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return false;
  bool all = true;
  for (addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      all = all && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      all = all && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    } else {
      all = false;
    }
  }
  freeaddrinfo(res);
  return all;
}

Result<Target> resolve_target(const std::string& host_flag) {
  const bool explicit_host = !host_flag.empty();
  const char* env = std::getenv("OLLAMA_HOST");
  auto hp = server::parse_ollama_host(explicit_host ? host_flag : (env ? env : ""));
  if (!hp) return Status::error(explicit_host ? "--host: " + hp.error() : hp.error());
  Target t;
  t.host = hp->host;
  t.loopback = is_loopback_host(hp->host);
  // A server listening on every interface is reached through loopback, as Ollama's client does.
  if (hp->host == "0.0.0.0") hp->host = "127.0.0.1";
  if (hp->host == "::") hp->host = "::1";
  t.url = hp->url();
  if (!t.loopback && !explicit_host)
    return Status::errorf(
        "refusing to send load to {} (OLLAMA_HOST is not a loopback address); pass --host {} to load-test another "
        "machine on purpose",
        t.host, t.host);
  return t;
}

}  // namespace corral::cli::bench
