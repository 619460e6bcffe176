#include "server/http/router.h"

#include "server/http/request.h"

namespace corral::http::detail {

namespace {

// Splits "/a/b/c" into {"a","b","c"}; "/" gives {""} so that the root is one empty segment.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Pattern parse_pattern(std::string_view pattern) {
  Pattern p;
  for (std::string_view seg : split_path(pattern)) {
    if (!seg.empty() && seg.front() == ':') {
      p.segments.push_back({Pattern::Kind::kCapture, std::string(seg.substr(1))});
    } else if (!seg.empty() && seg.front() == '*') {
      p.segments.push_back({Pattern::Kind::kCatchAll, std::string(seg.substr(1))});
      break;  // a catch-all ends the pattern
    } else {
      p.segments.push_back({Pattern::Kind::kLiteral, std::string(seg)});
      ++p.literals;
    }
  }
  return p;
}

bool match_pattern(const Pattern& p, std::string_view raw_path, std::map<std::string, std::string>* params) {
  if (raw_path.empty() || raw_path.front() != '/') return false;
  std::vector<std::string_view> segs = split_path(raw_path);
  size_t i = 0;
  for (const Pattern::Segment& s : p.segments) {
    if (s.kind == Pattern::Kind::kCatchAll) {
      if (params) {
        std::string rest;
        for (size_t j = i; j < segs.size(); ++j) {
          if (j > i) rest += '/';
          rest += percent_decode(segs[j], false);
        }
        (*params)[s.text] = std::move(rest);
      }
      return true;
    }
    if (i >= segs.size()) return false;
    if (s.kind == Pattern::Kind::kLiteral) {
      if (percent_decode(segs[i], false) != s.text) return false;
    } else {
      // A capture needs a non-empty segment: "/api/blobs/" is not a blob named "".
      if (segs[i].empty()) return false;
      if (params) (*params)[s.text] = percent_decode(segs[i], false);
    }
    ++i;
  }
  return i == segs.size();
}

}  // namespace corral::http::detail
