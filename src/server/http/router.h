// Method + path routing. Patterns are '/'-separated segments: literal ("api"), a capture
// (":digest", one whole segment) or a trailing catch-all ("*rest", the remaining segments
// joined by '/'). When several patterns match, the one with more literal segments wins (then
// the earlier one), so "/api/blobs/list" beats "/api/blobs/:digest" whatever the order.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace corral::http {

template <typename Handler>
class Router;

namespace detail {

struct Pattern {
  enum class Kind { kLiteral, kCapture, kCatchAll };
  struct Segment {
    Kind kind;
    std::string text;  // literal text, or the capture's name
  };
  std::vector<Segment> segments;
  int literals = 0;  // specificity for tie-breaking
};

Pattern parse_pattern(std::string_view pattern);
// Matches a raw (still %-encoded) path; captures are decoded per segment so an encoded '/'
// stays inside its segment.
bool match_pattern(const Pattern& p, std::string_view raw_path, std::map<std::string, std::string>* params);

}  // namespace detail

template <typename Handler>
class Router {
 public:
  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method
    std::map<std::string, std::string> params;
    bool path_known = false;  // some route has this path (so 405, not 404)
    std::string allow;        // methods for the path, for the 405 Allow header
  };

  void add(std::string method, std::string_view pattern, Handler handler) {
    routes_.push_back({std::move(method), detail::parse_pattern(pattern), std::move(handler)});
  }

  bool empty() const { return routes_.empty(); }

  // HEAD falls back to the GET route when there is no HEAD route.
  Match match(std::string_view method, std::string_view raw_path) const {
    Match m;
    const Route* best = find(method, raw_path, &m);
    if (!best && method == "HEAD") best = find("GET", raw_path, &m);
    if (best) {
      m.handler = &best->handler;
      detail::match_pattern(best->pattern, raw_path, &m.params);
    }
    return m;
  }

 private:
  struct Route {
    std::string method;
    detail::Pattern pattern;
    Handler handler;
  };

  // Best route for `method`; also fills path_known/allow from every route matching the path.
  const Route* find(std::string_view method, std::string_view raw_path, Match* m) const {
    const Route* best = nullptr;
    for (const Route& r : routes_) {
      if (!detail::match_pattern(r.pattern, raw_path, nullptr)) continue;
      m->path_known = true;
      add_allowed(&m->allow, r.method);
      if (r.method == method && (!best || r.pattern.literals > best->pattern.literals)) best = &r;
    }
    return best;
  }

  static void add_allowed(std::string* allow, const std::string& method) {
    size_t pos = 0;
    while (pos < allow->size()) {  // allow is "A, B, C"
      size_t end = allow->find(", ", pos);
      if (end == std::string::npos) end = allow->size();
      if (allow->compare(pos, end - pos, method) == 0) return;
      pos = end + 2;
    }
    if (!allow->empty()) *allow += ", ";
    *allow += method;
  }

  std::vector<Route> routes_;
};

}  // namespace corral::http
