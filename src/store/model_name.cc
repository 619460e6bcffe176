#include "store/model_name.h"

#include <fmt/format.h>

#include "base/quote.h"

namespace corral::store {

namespace {

constexpr size_t kMaxHostLen = 350;  // Ollama's isValidLen: hosts may be long (FQDN:port)
constexpr size_t kMaxPartLen = 80;   // namespace, model and tag

bool is_alnum_or_underscore(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

const char* part_name(NamePart p) {
  switch (p) {
    case NamePart::kHost: return "host";
    case NamePart::kNamespace: return "namespace";
    case NamePart::kModel: return "model";
    case NamePart::kTag: return "tag";
  }
  return "part";
}

// Splits at the last `sep`. Mirrors Ollama's cutPromised: when the separator is present, an empty
// side is kept empty here and reported as missing by validation (Ollama fills "!MISSING!").
bool cut_last(std::string_view s, char sep, std::string_view* before, std::string_view* after) {
  size_t i = s.rfind(sep);
  if (i == std::string_view::npos) return false;
  *before = s.substr(0, i);
  *after = s.substr(i + 1);
  return true;
}

std::string quoted(std::string_view s) {
  constexpr size_t kMax = 100;  // error texts never echo megabytes of hostile input
  return quote_text(s.size() <= kMax ? s : s.substr(0, kMax));
}

Status check_part(NamePart p, std::string_view s) {
  if (s.empty()) return Status::errorf("the {} is empty", part_name(p));
  size_t max = p == NamePart::kHost ? kMaxHostLen : kMaxPartLen;
  if (s.size() > max) { return Status::errorf("the {} is {} bytes long (at most {})", part_name(p), s.size(), max); }
  if (!is_valid_name_part(p, s)) {
    return Status::errorf("the {} {} has a character Ollama does not allow there", part_name(p), quoted(s));
  }
  return Status::ok();
}

}  // namespace

bool is_valid_name_part(NamePart part, std::string_view s) {
  size_t max = part == NamePart::kHost ? kMaxHostLen : kMaxPartLen;
  if (s.empty() || s.size() > max) return false;
  if (!is_alnum_or_underscore(s[0])) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (is_alnum_or_underscore(c) || c == '-') continue;
    if (c == '.' && part != NamePart::kNamespace) continue;
    if (c == ':' && part == NamePart::kHost) continue;
    return false;
  }
  return true;
}

bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Result<ModelName> ModelName::parse(std::string_view text) {
  std::string_view s = text;
  std::string_view host, ns, model, tag;
  bool have_host = false, have_ns = false, have_tag = false;

  // A tag is only a tag when its ':' comes after the last '/': "host:port/ns/m" has none.
  size_t colon = s.rfind(':'), slash = s.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    cut_last(s, ':', &s, &tag);
    have_tag = true;
  }
  std::string_view rest;
  if (!cut_last(s, '/', &rest, &model)) {
    model = s;
  } else if (!cut_last(rest, '/', &host, &ns)) {
    ns = rest;
    have_ns = true;
  } else {
    have_ns = have_host = true;
    // Ollama drops a leading "scheme://" from the host ("https://example.com/ns/m").
    if (size_t p = host.find("://"); p != std::string_view::npos) host = host.substr(p + 3);
  }

  Status st = Status::ok();
  if (have_host) st = check_part(NamePart::kHost, host);
  if (st && have_ns) st = check_part(NamePart::kNamespace, ns);
  if (st) st = check_part(NamePart::kModel, model);
  if (st && have_tag) st = check_part(NamePart::kTag, tag);
  if (!st) return Status::errorf("invalid model name {}: {}", quoted(text), st.message());

  ModelName n;
  n.host = have_host ? std::string(host) : std::string(kDefaultHost);
  n.ns = have_ns ? std::string(ns) : std::string(kDefaultNamespace);
  n.model = std::string(model);
  n.tag = have_tag ? std::string(tag) : std::string(kDefaultTag);
  return n;
}

std::string ModelName::full() const { return fmt::format("{}/{}/{}:{}", host, ns, model, tag); }

std::string ModelName::display() const {
  if (!store::equal_fold(host, kDefaultHost)) return full();
  if (!store::equal_fold(ns, kDefaultNamespace)) return fmt::format("{}/{}:{}", ns, model, tag);
  return fmt::format("{}:{}", model, tag);
}

std::string ModelName::relative_path() const { return fmt::format("{}/{}/{}/{}", host, ns, model, tag); }

bool ModelName::equal_fold(const ModelName& o) const {
  return store::equal_fold(host, o.host) && store::equal_fold(ns, o.ns) && store::equal_fold(model, o.model) &&
         store::equal_fold(tag, o.tag);
}

}  // namespace corral::store
