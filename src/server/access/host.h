// Which Host headers the server answers: Ollama's allowedHostsMiddleware (server/routes.go), the
// defence against DNS rebinding. A page on attacker.example whose name is re-pointed at
// 127.0.0.1 reaches the server as same-origin, but its requests say "Host: attacker.example".
//
// Bound to a non-loopback address (e.g. OLLAMA_HOST=0.0.0.0), every Host is accepted, as in
// Ollama: such a server is meant to be reached under any name. Bound to loopback, the Host
// (port removed) must be
//   - an IP address that is loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7),
//     unspecified (0.0.0.0, ::) or one of this machine's interface addresses, or
//   - empty, "localhost", this machine's hostname, or a name under .localhost, .local or
//     .internal (case-insensitive);
// anything else gets 403. An OPTIONS request to an allowed host name (not an IP) that no CORS
// preflight answered gets 204, as Ollama's middleware does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace corral::server {

struct HostPolicy {
  bool any_host = false;                   // bound to a non-loopback address
  std::string hostname;                    // this machine's, lowercased
  std::vector<std::string> interface_ips;  // this machine's interface addresses

  // From the address the server is bound to (Server::local_address()), gethostname() and
  // getifaddrs().
  static HostPolicy for_bound_address(const std::string& bound_ip);
};

enum class HostVerdict {
  kAllowed,
  kAllowedName,  // allowed by name (not by IP): an OPTIONS request is answered 204 here
  kForbidden,
};

// `host_header`: the request's Host value, possibly with a port ("[::1]:11434").
HostVerdict check_host(std::string_view host_header, const HostPolicy& policy);

}  // namespace corral::server
