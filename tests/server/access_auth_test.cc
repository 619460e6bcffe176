// CORRAL_API_KEYS parsing and checking (server/access_auth.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "server/access/auth.h"

namespace corral::server {
namespace {

using nlohmann::json;

TEST(AccessAuth, CommaListNamesTenantsByPosition) {
  auto k = ApiKeys::parse(" sk-one , sk-two,");
  ASSERT_TRUE(k) << k.status().message();
  EXPECT_TRUE(k->enabled());
  EXPECT_EQ(k->size(), 2u);
  EXPECT_EQ(k->tenant_of("sk-one"), "key1");
  EXPECT_EQ(k->tenant_of("sk-two"), "key2");
  EXPECT_EQ(k->tenant_of("sk-on"), std::nullopt);
  EXPECT_EQ(k->tenant_of("sk-one "), std::nullopt);
  EXPECT_EQ(k->tenant_of(""), std::nullopt);
}

TEST(AccessAuth, EmptySettingMeansNoKeys) {
  auto k = ApiKeys::parse("");
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->enabled());
  EXPECT_FALSE(ApiKeys::parse(" , ,"));  // set, but holding no key, is a mistake
}

TEST(AccessAuth, FileOfKeysAndTenants) {
  auto k = ApiKeys::parse_file_text("# team keys\n\nsk-alice alice\r\nsk-bob   Bob Smith\nsk-anon\n", "keys.txt");
  ASSERT_TRUE(k) << k.status().message();
  EXPECT_EQ(k->size(), 3u);
  EXPECT_EQ(k->tenant_of("sk-alice"), "alice");
  EXPECT_EQ(k->tenant_of("sk-bob"), "Bob Smith");
  EXPECT_EQ(k->tenant_of("sk-anon"), "key3");
  EXPECT_EQ(k->tenant_of("alice"), std::nullopt);
}

TEST(AccessAuth, FileErrorsNameTheLineNotTheKey) {
  auto dup = ApiKeys::parse_file_text("sk-secret a\nsk-secret b\n", "keys.txt");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.status().message().find("keys.txt line 2"), std::string::npos) << dup.status().message();
  EXPECT_EQ(dup.status().message().find("sk-secret"), std::string::npos);
  auto empty = ApiKeys::parse_file_text("# nothing\n", "keys.txt");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.status().message().find("holds no key"), std::string::npos);
}

TEST(AccessAuth, SettingStartingWithSlashOrDotIsAFile) {
  auto dir = std::filesystem::temp_directory_path() / ("corral_keys_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "keys";
  std::ofstream(path) << "sk-file team-a\n";
  auto k = ApiKeys::parse(path.string());
  ASSERT_TRUE(k) << k.status().message();
  EXPECT_EQ(k->tenant_of("sk-file"), "team-a");
  auto missing = ApiKeys::parse((dir / "nope").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.status().message().find("not a readable file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(AccessAuth, BearerToken) {
  http::Headers h;
  EXPECT_EQ(bearer_token(h), std::nullopt);
  h.add("Authorization", "Bearer sk-1");
  EXPECT_EQ(bearer_token(h), "sk-1");
  http::Headers lower;
  lower.add("authorization", "bearer   sk-2 ");
  EXPECT_EQ(bearer_token(lower), "sk-2");
  http::Headers basic;
  basic.add("Authorization", "Basic dXNlcjpwYXNz");
  EXPECT_EQ(bearer_token(basic), std::nullopt);
  http::Headers empty;
  empty.add("Authorization", "Bearer ");
  EXPECT_EQ(bearer_token(empty), std::nullopt);
}

TEST(AccessAuth, AnthropicsXApiKeyIsAKeyToo) {
  http::Headers h;
  EXPECT_EQ(api_key_token(h), std::nullopt);
  h.add("x-api-key", " sk-ant-1 ");
  EXPECT_EQ(api_key_token(h), "sk-ant-1");
  h.add("Authorization", "Bearer sk-2");  // the bearer token wins when both are sent
  EXPECT_EQ(api_key_token(h), "sk-2");
  http::Headers empty;
  empty.add("X-Api-Key", "  ");
  EXPECT_EQ(api_key_token(empty), std::nullopt);
}

TEST(AccessAuth, OnlyRootAndVersionAreExempt) {
  EXPECT_TRUE(exempt_from_api_key("GET", "/"));
  EXPECT_TRUE(exempt_from_api_key("HEAD", "/"));
  EXPECT_TRUE(exempt_from_api_key("GET", "/api/version"));
  EXPECT_TRUE(exempt_from_api_key("HEAD", "/api/version"));
  EXPECT_FALSE(exempt_from_api_key("POST", "/"));
  EXPECT_FALSE(exempt_from_api_key("GET", "/api/tags"));
  EXPECT_FALSE(exempt_from_api_key("GET", "/metrics"));
  EXPECT_FALSE(exempt_from_api_key("GET", "/api/version/x"));
}

TEST(AccessAuth, UnauthorizedBodyFollowsTheApiFamily) {
  json ollama = json::parse(unauthorized_body("/api/tags", "invalid API key"));
  EXPECT_EQ(ollama, json({{"error", "invalid API key"}}));
  json openai = json::parse(unauthorized_body("/v1/chat/completions", "invalid API key"));
  EXPECT_EQ(openai["error"]["message"], "invalid API key");
  EXPECT_EQ(openai["error"]["type"], "invalid_request_error");
  EXPECT_EQ(openai["error"]["code"], "invalid_api_key");
  EXPECT_TRUE(openai["error"]["param"].is_null());
  json anthropic = json::parse(unauthorized_body("/v1/messages", "invalid API key"));
  EXPECT_EQ(anthropic["type"], "error");
  EXPECT_EQ(anthropic["error"]["type"], "authentication_error");
  EXPECT_EQ(json::parse(unauthorized_body("/v1/messages/count_tokens", "x"))["type"], "error");
}

}  // namespace
}  // namespace corral::server
