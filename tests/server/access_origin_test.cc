// OLLAMA_ORIGINS matching (server/access_origin.h) against Ollama's rules.
#include <gtest/gtest.h>

#include "server/access/origin.h"

namespace corral::server {
namespace {

TEST(AccessOrigin, DefaultsAreOllamas) {
  auto p = OriginPolicy::create("");
  ASSERT_TRUE(p) << p.status().message();
  for (const char* ok : {"http://localhost", "https://localhost", "http://localhost:3000", "https://127.0.0.1:8443",
                         "http://127.0.0.1", "http://0.0.0.0:5173", "app://obsidian.md", "file://", "tauri://localhost",
                         "vscode-webview://abc123", "vscode-file://vscode-app"})
    EXPECT_TRUE(p->allows(ok)) << ok;
  for (const char* bad :
       {"http://evil.test", "http://localhost.evil.test", "http://127.0.0.1.evil.test", "https://evil.test:443", "null",
        "chrome-extension://abc", "http://10.0.0.5:8080", "ftp://localhost", "http://[::1]:3000"})
    EXPECT_FALSE(p->allows(bad)) << bad;
  EXPECT_FALSE(p->allow_all());
  EXPECT_EQ(p->patterns(), default_allowed_origins());
  EXPECT_EQ(p->patterns().size(), 17u);  // 3 hosts x 4 forms + 5 schemes
}

TEST(AccessOrigin, OllamaOriginsAddToTheDefaults) {
  auto p = OriginPolicy::create("https://chat.example.com, chrome-extension://*,http://*.corp.test");
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_TRUE(p->allows("https://chat.example.com"));
  EXPECT_FALSE(p->allows("https://chat.example.com:8443"));
  EXPECT_FALSE(p->allows("http://chat.example.com"));
  EXPECT_TRUE(p->allows("chrome-extension://abcdef"));
  EXPECT_TRUE(p->allows("http://a.corp.test"));
  EXPECT_FALSE(p->allows("http://a.corp.test.evil"));
  EXPECT_TRUE(p->allows("http://localhost:8080"));  // defaults stay
  EXPECT_EQ(p->patterns().front(), "https://chat.example.com");
}

TEST(AccessOrigin, StarAllowsEverything) {
  auto p = OriginPolicy::create("*");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->allow_all());
  EXPECT_TRUE(p->allows("http://evil.test"));
  EXPECT_TRUE(p->allows("null"));
}

TEST(AccessOrigin, PatternsAreCaseInsensitiveAndTrimmed) {
  auto p = OriginPolicy::create("  HTTPS://App.Example.COM ");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->allows("https://app.example.com"));
}

TEST(AccessOrigin, WildcardPartsMayNotOverlap) {
  auto p = OriginPolicy::create("http://ab*ba");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->allows("http://abXba"));
  EXPECT_TRUE(p->allows("http://abba"));
  EXPECT_FALSE(p->allows("http://aba"));
}

TEST(AccessOrigin, InvalidPatternsAreStartupErrors) {
  auto two = OriginPolicy::create("http://*.a.*");
  ASSERT_FALSE(two);
  EXPECT_NE(two.status().message().find("more than one '*'"), std::string::npos) << two.status().message();
  auto bare = OriginPolicy::create("example.com");
  ASSERT_FALSE(bare);
  EXPECT_NE(bare.status().message().find("\"example.com\""), std::string::npos) << bare.status().message();
  EXPECT_TRUE(OriginPolicy::create("http://ok.test,,https://also.test"));  // an empty item matches nothing
}

}  // namespace
}  // namespace corral::server
