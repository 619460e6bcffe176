#include "server/access/auth.h"
#include "base/quote.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "store/digest.h"

namespace corral::server {
namespace {

// A keys file is a few lines per tenant: anything this big is a wrong path, not a keys file.
constexpr uintmax_t kMaxKeysFileBytes = 1u << 20;
// Keys are opaque, but must survive an HTTP header and a whitespace-separated file unchanged.
constexpr size_t kMaxKeyBytes = 4096;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool valid_key(std::string_view k) {
  if (k.empty() || k.size() > kMaxKeyBytes) return false;
  for (unsigned char c : k)
    if (c <= ' ' || c >= 0x7f) return false;
  return true;
}

// Equal-length comparison whose time does not depend on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // digests: always the same length
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Status ApiKeys::add(std::string_view key, std::string tenant) {
  std::string digest = store::Sha256::of(key).str();
  for (const auto& k : keys_)
    if (k.digest == digest) return Status::error("the same key is listed twice");
  keys_.push_back({std::move(digest), std::move(tenant)});
  return Status::ok();
}

Result<ApiKeys> ApiKeys::parse_file_text(std::string_view text, std::string_view source) {
  ApiKeys keys;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    size_t space = line.find_first_of(" \t");
    std::string_view key = line.substr(0, space);
    std::string_view tenant = space == std::string_view::npos ? std::string_view() : trim(line.substr(space));
    if (!valid_key(key))
      return Status::errorf("CORRAL_API_KEYS: {} line {}: a key must be 1 to {} printable characters without spaces",
                            source, line_no, kMaxKeyBytes);
    for (unsigned char c : tenant)
      if (c < ' ' || c == 0x7f)
        return Status::errorf("CORRAL_API_KEYS: {} line {}: the tenant name has a control character", source, line_no);
    std::string name = tenant.empty() ? "key" + std::to_string(keys.size() + 1) : std::string(tenant);
    if (Status s = keys.add(key, std::move(name)); !s)
      return Status::errorf("CORRAL_API_KEYS: {} line {}: {}", source, line_no, s.message());
  }
  if (!keys.enabled()) return Status::errorf("CORRAL_API_KEYS: {} holds no key", source);
  return keys;
}

Result<ApiKeys> ApiKeys::parse(std::string_view setting) {
  setting = trim(setting);
  if (setting.empty()) return ApiKeys();
  if (setting.front() == '/' || setting.front() == '.' || setting.starts_with("~/")) {
    std::string path(setting);
    if (path.starts_with("~/")) {
      const char* home = std::getenv("HOME");
      if (!home) return Status::error("CORRAL_API_KEYS: ~/ used but HOME is not set");
      path = std::string(home) + path.substr(1);
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      return Status::errorf("CORRAL_API_KEYS: {} is not a readable file", quote_text(path));
    if (std::filesystem::file_size(path, ec) > kMaxKeysFileBytes)
      return Status::errorf("CORRAL_API_KEYS: {} is over {} bytes: not a keys file", quote_text(path),
                            kMaxKeysFileBytes);
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::errorf("CORRAL_API_KEYS: cannot read {}", quote_text(path));
    std::stringstream text;
    text << in.rdbuf();
    return parse_file_text(text.str(), path);
  }
  ApiKeys keys;
  size_t start = 0;
  while (start <= setting.size()) {
    size_t comma = setting.find(',', start);
    std::string_view key = trim(setting.substr(start, comma == std::string_view::npos ? comma : comma - start));
    start = comma == std::string_view::npos ? setting.size() + 1 : comma + 1;
    if (key.empty()) continue;
    if (!valid_key(key))
      return Status::errorf("CORRAL_API_KEYS: key {} must be 1 to {} printable characters without spaces",
                            keys.size() + 1, kMaxKeyBytes);
    if (Status s = keys.add(key, "key" + std::to_string(keys.size() + 1)); !s)
      return Status::errorf("CORRAL_API_KEYS: {}", s.message());
  }
  if (!keys.enabled()) return Status::error("CORRAL_API_KEYS holds no key");
  return keys;
}

std::optional<std::string> ApiKeys::tenant_of(std::string_view presented) const {
  const std::string digest = store::Sha256::of(presented).str();
  const Key* found = nullptr;
  for (const auto& k : keys_) {
    // Every key is compared, the match or not: no early exit.
    const bool eq = constant_time_equal(digest, k.digest);
    if (eq && !found) found = &k;
  }
  if (!found) return std::nullopt;
  return found->tenant;
}

std::vector<std::string> ApiKeys::tenants() const {
  std::vector<std::string> names;
  for (const auto& k : keys_)
    if (std::find(names.begin(), names.end(), k.tenant) == names.end()) names.push_back(k.tenant);
  return names;
}

bool exempt_from_api_key(std::string_view method, std::string_view path) {
  return (method == "GET" || method == "HEAD") && (path == "/" || path == "/api/version" || path == "/health");
}

std::optional<std::string_view> bearer_token(const http::Headers& headers) {
  auto v = headers.get("Authorization");
  if (!v) return std::nullopt;
  std::string_view s = trim(*v);
  if (s.size() < 7 || !http::iequals(s.substr(0, 7), "bearer ")) return std::nullopt;
  s = trim(s.substr(7));
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<std::string_view> api_key_token(const http::Headers& headers) {
  if (auto t = bearer_token(headers)) return t;
  // Anthropic's SDKs send the key as "x-api-key: <key>".
  auto v = headers.get("X-Api-Key");
  if (!v) return std::nullopt;
  std::string_view s = trim(*v);
  if (s.empty()) return std::nullopt;
  return s;
}

std::string unauthorized_body(std::string_view path, std::string_view message) {
  using nlohmann::ordered_json;
  if (path == "/v1/messages" || path.starts_with("/v1/messages/")) {
    ordered_json j = {{"type", "error"},
                      {"error", {{"type", "authentication_error"}, {"message", std::string(message)}}}};
    return j.dump();
  }
  if (path.starts_with("/v1/")) {
    ordered_json j = {{"error",
                       {{"message", std::string(message)},
                        {"type", "invalid_request_error"},
                        {"param", nullptr},
                        {"code", "invalid_api_key"}}}};
    return j.dump();
  }
  ordered_json j = {{"error", std::string(message)}};
  return j.dump();
}

}  // namespace corral::server
