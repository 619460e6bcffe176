// A strict reader of the Prometheus text exposition format (0.0.4) for tests: every line's
// syntax, HELP/TYPE once per family and before its samples, each family's samples together,
// label escaping, counters named *_total and never negative, and histograms whose buckets rise
// with le, end in +Inf and agree with _count. Problems are collected, not thrown, so a test can
// print them all.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace corral::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string type = "untyped", help;
  bool has_type = false, has_help = false;
  std::vector<PromSample> samples;
};

struct PromExposition {
  std::map<std::string, PromFamily> families;
  std::vector<std::string> errors;

  // The value of the sample `name` whose labels include `labels`; nullopt when none (or several).
  std::optional<double> value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    std::optional<double> found;
    int n = 0;
    for (const auto& [fname, f] : families)
      for (const PromSample& s : f.samples) {
        if (s.name != name) continue;
        bool match = true;
        for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
        if (match) found = s.value, ++n;
      }
    return n == 1 ? found : std::nullopt;
  }
};

namespace prom_detail {

inline bool name_char(char c, bool first, bool allow_colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

// Reads a metric (allow_colon) or label name at `pos`.
inline std::string read_name(const std::string& l, size_t& pos, bool allow_colon) {
  const size_t start = pos;
  while (pos < l.size() && name_char(l[pos], pos == start, allow_colon)) ++pos;
  return l.substr(start, pos - start);
}

inline std::optional<double> parse_value(const std::string& s) {
  if (s == "+Inf" || s == "Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  if (s == "NaN") return NAN;
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (*end) return std::nullopt;
  return v;
}

// The family a sample belongs to: histograms own name_bucket/_sum/_count.
inline std::string family_of(const std::string& sample, const std::map<std::string, PromFamily>& families) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (sample.size() > s.size() && sample.ends_with(s)) {
      const std::string base = sample.substr(0, sample.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() && it->second.type == "histogram") return base;
    }
  }
  return sample;
}

inline void check_histograms(PromExposition& e) {
  for (const auto& [name, f] : e.families) {
    if (f.type != "histogram") continue;
    // Group by label set without le.
    std::map<std::map<std::string, std::string>, std::vector<const PromSample*>> groups;
    for (const PromSample& s : f.samples) {
      auto key = s.labels;
      key.erase("le");
      groups[key].push_back(&s);
    }
    for (const auto& [labels, samples] : groups) {
      double prev_le = -INFINITY, prev_count = 0;
      std::optional<double> inf, count, sum;
      for (const PromSample* s : samples) {
        if (s->name == name + "_bucket") {
          auto it = s->labels.find("le");
          if (it == s->labels.end()) {
            e.errors.push_back(name + "_bucket without le");
            continue;
          }
          auto le = parse_value(it->second);
          if (!le) e.errors.push_back(name + ": bad le \"" + it->second + "\"");
          else if (*le <= prev_le) e.errors.push_back(name + ": le not increasing at " + it->second);
          if (s->value < prev_count) e.errors.push_back(name + ": bucket counts decrease at le=" + it->second);
          if (le) prev_le = *le;
          prev_count = s->value;
          if (le && std::isinf(*le)) inf = s->value;
        } else if (s->name == name + "_count") {
          count = s->value;
        } else if (s->name == name + "_sum") {
          sum = s->value;
        }
      }
      if (!inf) e.errors.push_back(name + ": no le=\"+Inf\" bucket");
      if (!count || !sum) e.errors.push_back(name + ": _count or _sum missing");
      if (inf && count && *inf != *count) e.errors.push_back(name + ": +Inf bucket differs from _count");
    }
  }
}

}  // namespace prom_detail

inline PromExposition parse_prometheus_text(const std::string& text) {
  using namespace prom_detail;
  PromExposition e;
  std::istringstream in(text);
  std::string line, current;  // current: the family whose samples are being read
  std::set<std::string> finished;
  int n = 0;
  auto err = [&](const std::string& m) { e.errors.push_back("line " + std::to_string(n) + ": " + m); };
  auto enter = [&](const std::string& fam) {
    if (fam == current) return;
    if (finished.count(fam)) err("samples or metadata of " + fam + " are not together");
    if (!current.empty()) finished.insert(current);
    current = fam;
  };
  if (!text.empty() && text.back() != '\n') e.errors.push_back("the exposition does not end with a newline");
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream ls(line.substr(1));
      std::string kw, name;
      ls >> kw >> name;
      if (kw != "HELP" && kw != "TYPE") continue;  // a plain comment
      size_t p = 0;
      if (read_name(name, p, true) != name || name.empty()) err("bad metric name in " + kw + ": " + name);
      enter(name);
      PromFamily& f = e.families[name];
      std::string rest;
      std::getline(ls, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (kw == "HELP") {
        if (f.has_help) err("second HELP for " + name);
        f.has_help = true;
        f.help = rest;
      } else {
        if (f.has_type) err("second TYPE for " + name);
        if (!f.samples.empty()) err("TYPE after samples of " + name);
        static const std::set<std::string> kTypes{"counter", "gauge", "histogram", "summary", "untyped"};
        if (!kTypes.count(rest)) err("unknown type " + rest);
        f.has_type = true;
        f.type = rest;
      }
      continue;
    }
    size_t p = 0;
    PromSample s;
    s.name = read_name(line, p, true);
    if (s.name.empty()) {
      err("no metric name: " + line);
      continue;
    }
    if (p < line.size() && line[p] == '{') {
      ++p;
      while (p < line.size() && line[p] != '}') {
        const std::string label = read_name(line, p, false);
        if (label.empty() || p + 1 >= line.size() || line[p] != '=' || line[p + 1] != '"') {
          err("bad label in: " + line);
          break;
        }
        p += 2;
        std::string v;
        bool closed = false;
        for (; p < line.size(); ++p) {
          if (line[p] == '\\') {
            if (p + 1 >= line.size() || (line[p + 1] != '\\' && line[p + 1] != '"' && line[p + 1] != 'n')) {
              err("bad escape in label value: " + line);
              break;
            }
            v += line[p + 1] == 'n' ? '\n' : line[p + 1];
            ++p;
          } else if (line[p] == '"') {
            closed = true;
            ++p;
            break;
          } else {
            v += line[p];
          }
        }
        if (!closed) {
          err("unterminated label value: " + line);
          break;
        }
        if (s.labels.count(label)) err("label " + label + " twice: " + line);
        s.labels[label] = v;
        if (p < line.size() && line[p] == ',') ++p;
      }
      if (p >= line.size() || line[p] != '}') {
        err("unterminated label set: " + line);
        continue;
      }
      ++p;
    }
    if (p >= line.size() || line[p] != ' ') {
      err("no space before the value: " + line);
      continue;
    }
    std::string value = line.substr(p + 1);
    if (auto sp = value.find(' '); sp != std::string::npos) value = value.substr(0, sp);  // a timestamp follows
    auto v = parse_value(value);
    if (!v) {
      err("bad value \"" + value + "\": " + line);
      continue;
    }
    s.value = *v;
    const std::string fam = family_of(s.name, e.families);
    enter(fam);
    PromFamily& f = e.families[fam];
    if (f.type == "counter") {
      if (!s.name.ends_with("_total")) err("counter " + s.name + " does not end in _total");
      if (s.value < 0) err("negative counter " + s.name);
    }
    if (f.type == "histogram" && s.name == fam) err("histogram sample without _bucket/_sum/_count: " + s.name);
    f.samples.push_back(std::move(s));
  }
  for (const auto& [name, f] : e.families)
    if (!f.has_type || !f.has_help) e.errors.push_back(name + ": HELP or TYPE missing");
  check_histograms(e);
  return e;
}

}  // namespace corral::testing
