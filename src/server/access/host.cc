#include "server/access/host.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace corral::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Go's net.SplitHostPort, falling back to the whole value when there is no port: "h:1" -> "h",
// "[::1]:1" -> "::1", "[::1]" -> "::1", "::1" -> "::1" (bare IPv6 has too many colons).
std::string_view host_part(std::string_view v) {
  if (v.starts_with('[')) {
    size_t close = v.find(']');
    if (close != std::string_view::npos) return v.substr(1, close - 1);
    return v;
  }
  size_t colon = v.rfind(':');
  if (colon != std::string_view::npos && v.find(':') == colon) return v.substr(0, colon);
  return v;
}

// An IP address as bytes: 4 for IPv4 (IPv4-mapped IPv6 is unmapped, as netip does), 16 for IPv6.
struct Ip {
  std::array<unsigned char, 16> b{};
  bool v4 = false;
  bool operator==(const Ip&) const = default;

  static std::optional<Ip> parse(const std::string& s) {
    Ip ip;
    if (inet_pton(AF_INET, s.c_str(), ip.b.data()) == 1) {
      ip.v4 = true;
      return ip;
    }
    if (inet_pton(AF_INET6, s.c_str(), ip.b.data()) != 1) return std::nullopt;
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.b.data(), kMapped, 12) == 0) {
      std::memmove(ip.b.data(), ip.b.data() + 12, 4);
      std::fill(ip.b.begin() + 4, ip.b.end(), 0);
      ip.v4 = true;
    }
    return ip;
  }
  bool is_loopback() const {
    if (v4) return b[0] == 127;
    static constexpr std::array<unsigned char, 16> kOne = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return b == kOne;
  }
  bool is_unspecified() const {
    const size_t n = v4 ? 4 : 16;
    return std::all_of(b.begin(), b.begin() + n, [](unsigned char c) { return c == 0; });
  }
  // netip's IsPrivate: RFC 1918 and RFC 4193.
  bool is_private() const {
    if (v4) return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168);
    return (b[0] & 0xfe) == 0xfc;
  }
  std::string str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(v4 ? AF_INET : AF_INET6, b.data(), buf, sizeof(buf));
    return buf;
  }
};

}  // namespace

HostPolicy HostPolicy::for_bound_address(const std::string& bound_ip) {
  HostPolicy p;
  auto bound = Ip::parse(bound_ip);
  p.any_host = bound && !bound->is_loopback();
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) == 0) p.hostname = lower(name);
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr) continue;
      Ip ip;
      if (i->ifa_addr->sa_family == AF_INET) {
        std::memcpy(ip.b.data(), &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
        ip.v4 = true;
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        std::memcpy(ip.b.data(), &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
      } else {
        continue;
      }
      p.interface_ips.push_back(ip.str());
    }
    freeifaddrs(list);
  }
  return p;
}

HostVerdict check_host(std::string_view host_header, const HostPolicy& policy) {
  if (policy.any_host) return HostVerdict::kAllowed;
  const std::string host = lower(host_part(host_header));
  if (auto addr = Ip::parse(host)) {
    const bool local =
        std::find(policy.interface_ips.begin(), policy.interface_ips.end(), addr->str()) != policy.interface_ips.end();
    if (addr->is_loopback() || addr->is_unspecified() || addr->is_private() || local) return HostVerdict::kAllowed;
  }
  if (host.empty() || host == "localhost" || (!policy.hostname.empty() && host == policy.hostname))
    return HostVerdict::kAllowedName;
  for (std::string_view tld : {".localhost", ".local", ".internal"})
    if (host.ends_with(tld)) return HostVerdict::kAllowedName;
  return HostVerdict::kForbidden;
}

}  // namespace corral::server
