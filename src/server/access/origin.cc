#include "server/access/origin.h"
#include "base/quote.h"

#include <algorithm>

namespace corral::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// gin-contrib/cors accepts a pattern without '*' only with one of these schemes (Ollama turns
// on AllowBrowserExtensions).
bool has_allowed_scheme(std::string_view origin) {
  for (std::string_view scheme : {"http://", "https://", "chrome-extension://", "safari-extension://",
                                  "moz-extension://", "ms-browser-extension://"})
    if (origin.starts_with(scheme)) return true;
  return false;
}

}  // namespace

const std::string_view kCorsAllowHeaders =
    "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,Openai-Beta,X-Stainless-Arch,"
    "X-Stainless-Async,X-Stainless-Custom-Poll-Interval,X-Stainless-Helper-Method,X-Stainless-Lang,"
    "X-Stainless-Os,X-Stainless-Package-Version,X-Stainless-Poll-Helper,X-Stainless-Retry-Count,"
    "X-Stainless-Runtime,X-Stainless-Runtime-Version,X-Stainless-Timeout";

std::vector<std::string> default_allowed_origins() {
  std::vector<std::string> out;
  for (const char* host : {"localhost", "127.0.0.1", "0.0.0.0"}) {
    for (const char* scheme : {"http", "https"}) out.push_back(std::string(scheme) + "://" + host);
    for (const char* scheme : {"http", "https"}) out.push_back(std::string(scheme) + "://" + host + ":*");
  }
  for (const char* o : {"app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"}) out.push_back(o);
  return out;
}

Result<OriginPolicy> OriginPolicy::create(std::string_view ollama_origins) {
  OriginPolicy p;
  if (!ollama_origins.empty()) {
    // strings.Split: every comma separates, so "a,,b" holds an empty pattern, which matches
    // nothing (a browser never sends an empty Origin).
    size_t start = 0;
    while (true) {
      size_t comma = ollama_origins.find(',', start);
      p.patterns_.emplace_back(ollama_origins.substr(start, comma == std::string_view::npos ? comma : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  for (auto& d : default_allowed_origins()) p.patterns_.push_back(std::move(d));

  for (const std::string& raw : p.patterns_) {
    std::string pattern = lower(trim(raw));  // gin-contrib/cors normalizes the same way
    if (pattern.empty()) continue;
    if (pattern == "*") {
      p.allow_all_ = true;
      continue;
    }
    const size_t stars = std::count(pattern.begin(), pattern.end(), '*');
    if (stars > 1)
      return Status::errorf("OLLAMA_ORIGINS: {} has more than one '*' (only one is allowed per origin)",
                            quote_text(raw));
    if (stars == 0) {
      if (!has_allowed_scheme(pattern))
        return Status::errorf(
            "OLLAMA_ORIGINS: {} is not an origin: it needs a '*' or a scheme such as http:// or "
            "https://",
            quote_text(raw));
      p.exact_.push_back(pattern);
      continue;
    }
    const size_t star = pattern.find('*');
    p.wildcard_.emplace_back(pattern.substr(0, star), pattern.substr(star + 1));
  }
  return p;
}

bool OriginPolicy::allows(std::string_view origin) const {
  if (allow_all_) return true;
  for (const auto& e : exact_)
    if (origin == e) return true;
  for (const auto& [before, after] : wildcard_) {
    // At least as long as both parts: "ab*ba" must not match "aba" through an overlap.
    if (origin.size() >= before.size() + after.size() && origin.starts_with(before) && origin.ends_with(after))
      return true;
  }
  return false;
}

}  // namespace corral::server
