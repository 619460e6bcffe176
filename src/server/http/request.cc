#include "server/http/request.h"

namespace corral::http {

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void parse_query(std::string_view q, std::multimap<std::string, std::string>* out) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    out->emplace(percent_decode(key, true), percent_decode(value, true));
  }
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

void Headers::add(std::string name, std::string value) { list_.emplace_back(std::move(name), std::move(value)); }

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [n, v] : list_)
    if (iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}

std::string Headers::value_or(std::string_view name, std::string_view fallback) const {
  auto v = get(name);
  return std::string(v ? *v : fallback);
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : list_)
    if (iequals(n, name)) out.emplace_back(v);
  return out;
}

std::optional<std::string_view> Request::query_value(std::string_view key) const {
  auto it = query.find(std::string(key));
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::string_view Request::param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void parse_target(std::string_view target, std::string* raw_path, std::string* path,
                  std::multimap<std::string, std::string>* query) {
  // absolute-form: drop "scheme://authority" so routing sees the same path either way.
  if (size_t scheme = target.find("://");
      scheme != std::string_view::npos && target.substr(0, scheme).find('/') == std::string_view::npos) {
    size_t start = target.find_first_of("/?", scheme + 3);
    target = start == std::string_view::npos ? std::string_view() : target.substr(start);
  }
  // "http://host" and "http://host?x" name the root path.
  std::string root_target;
  if (target.empty() || target.front() == '?') {
    root_target = "/" + std::string(target);
    target = root_target;
  }
  size_t qmark = target.find('?');
  std::string_view raw = target.substr(0, qmark);
  // A fragment is never sent by conforming clients; ignore one defensively.
  if (size_t hash = raw.find('#'); hash != std::string_view::npos) raw = raw.substr(0, hash);
  raw_path->assign(raw);
  *path = percent_decode(raw, false);
  if (qmark != std::string_view::npos) {
    std::string_view q = target.substr(qmark + 1);
    if (size_t hash = q.find('#'); hash != std::string_view::npos) q = q.substr(0, hash);
    parse_query(q, query);
  }
}

}  // namespace corral::http
