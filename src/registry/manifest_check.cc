#include "registry/manifest_check.h"

#include <map>

#include <fmt/format.h>

#include "base/quote.h"

namespace corral::registry {

namespace {

bool is_restricted_name(std::string_view s) {
  if (s.empty() || s.size() > 127) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(s[0])) return false;
  for (char c : s) {
    if (alnum(c)) continue;
    switch (c) {
      case '!':
      case '#':
      case '$':
      case '&':
      case '-':
      case '^':
      case '_':
      case '.':
      case '+': continue;
      default: return false;
    }
  }
  return true;
}

}  // namespace

bool is_valid_media_type(std::string_view s) {
  if (s.size() > 255) return false;
  size_t slash = s.find('/');
  return slash != std::string_view::npos && is_restricted_name(s.substr(0, slash)) &&
         is_restricted_name(s.substr(slash + 1));
}

Status check_remote_manifest(const store::Manifest& m) {
  if (m.schema_version != 2) return Status::errorf("unsupported schemaVersion {}", m.schema_version);
  if (m.media_type != store::media_type::kManifest && m.media_type != kOciManifest) {
    return Status::errorf("unsupported manifest mediaType {}", quote_text(m.media_type.substr(0, 100)));
  }
  if (m.layers.empty()) return Status::error("the manifest has no layers");

  std::map<store::Digest, int64_t> sizes;
  auto check = [&](const store::Layer& l, const std::string& where) -> Status {
    if (!is_valid_media_type(l.media_type)) {
      return Status::errorf("{} has an invalid mediaType {}", where, quote_text(l.media_type.substr(0, 100)));
    }
    if (l.size < 0 || l.size > kMaxBlobBytes) {
      return Status::errorf("{} declares {} bytes (at most {} are accepted)", where, l.size, kMaxBlobBytes);
    }
    auto [it, fresh] = sizes.emplace(l.digest, l.size);
    if (!fresh && it->second != l.size) {
      return Status::errorf("{} repeats digest {} with another size ({} and {})", where, l.digest.str(), it->second,
                            l.size);
    }
    return Status::ok();
  };
  if (!m.config.digest.empty()) {
    CORRAL_RETURN_IF_ERROR(check(m.config, "config"));
    // The config is read whole into memory (store::ModelConfig::parse), so it is bounded here too.
    if (m.config.size > store::kMaxConfigBytes) {
      return Status::errorf("config declares {} bytes (at most {})", m.config.size, store::kMaxConfigBytes);
    }
  }
  for (size_t i = 0; i < m.layers.size(); ++i) {
    CORRAL_RETURN_IF_ERROR(check(m.layers[i], fmt::format("layers[{}]", i)));
  }
  return Status::ok();
}

}  // namespace corral::registry
