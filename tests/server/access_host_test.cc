// The Host check against DNS rebinding (server/access_host.h), as Ollama's allowedHostsMiddleware.
#include <gtest/gtest.h>

#include "server/access/host.h"

namespace corral::server {
namespace {

HostPolicy loopback() {
  HostPolicy p;
  p.hostname = "buildbox";
  p.interface_ips = {"127.0.0.1", "203.0.113.7", "2001:db8::7"};
  return p;
}

TEST(AccessHost, LoopbackServerAcceptsLocalNamesAndAddresses) {
  const HostPolicy p = loopback();
  for (const char* ip : {"127.0.0.1:11434", "127.0.0.1", "127.1.2.3:80", "[::1]:11434", "[::1]", "0.0.0.0:11434",
                         "10.1.2.3", "172.16.0.1:1", "172.31.255.255", "192.168.1.1:11434", "[fd00::1]:1",
                         "203.0.113.7:11434", "[2001:db8::7]:11434", "[::ffff:127.0.0.1]:1"})
    EXPECT_EQ(check_host(ip, p), HostVerdict::kAllowed) << ip;
  for (const char* name : {"localhost:11434", "LOCALHOST", "", "buildbox:11434", "BuildBox", "app.localhost:1",
                           "printer.local", "svc.internal:8080"})
    EXPECT_EQ(check_host(name, p), HostVerdict::kAllowedName) << name;
}

TEST(AccessHost, LoopbackServerRefusesOtherHosts) {
  const HostPolicy p = loopback();
  for (const char* bad : {"attacker.example:11434", "attacker.example", "localhost.attacker.example", "8.8.8.8:11434",
                          "172.32.0.1", "[2001:db8::8]:1", "local", "evil-internal", "127.0.0.1.nip.io:11434"})
    EXPECT_EQ(check_host(bad, p), HostVerdict::kForbidden) << bad;
}

TEST(AccessHost, NonLoopbackServerAcceptsAnyHost) {
  HostPolicy p = HostPolicy::for_bound_address("0.0.0.0");
  EXPECT_TRUE(p.any_host);
  EXPECT_EQ(check_host("attacker.example", p), HostVerdict::kAllowed);
  EXPECT_TRUE(HostPolicy::for_bound_address("::").any_host);
  EXPECT_TRUE(HostPolicy::for_bound_address("192.168.1.20").any_host);
}

TEST(AccessHost, LoopbackBindingsAreDetected) {
  for (const char* a : {"127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"}) {
    HostPolicy p = HostPolicy::for_bound_address(a);
    EXPECT_FALSE(p.any_host) << a;
    EXPECT_EQ(check_host("attacker.example", p), HostVerdict::kForbidden) << a;
    // This machine's own interface addresses include loopback.
    EXPECT_FALSE(p.interface_ips.empty());
  }
}

}  // namespace
}  // namespace corral::server
