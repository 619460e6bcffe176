#include "loadtest/bench_options.h"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "scheduler/config.h"

namespace corral::cli::bench {

int print_error(const std::string& message) {
  fmt::print(stderr, "Error: {}\n", message);
  return 1;
}

Result<std::vector<int>> parse_int_list(const std::string& s, int lo, int hi, const std::string& what) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end || v < lo || v > hi)
      return Status::errorf("{}: \"{}\" is not a whole number from {} to {}", what, item, lo, hi);
    out.push_back(static_cast<int>(v));
    pos = comma + 1;
  }
  return out;
}

Result<double> parse_seconds(const std::string& s, const std::string& what) {
  // Go durations, as OLLAMA_KEEP_ALIVE takes them; a bare number is seconds.
  auto d = scheduler::parse_keep_alive(s);
  if (!d) return Status::errorf("{}: {}", what, d.error());
  const double secs = std::chrono::duration<double>(*d).count();
  if (!(secs > 0)) return Status::errorf("{}: must be more than 0 seconds", what);
  return secs;
}

Result<std::vector<std::string>> read_prompt_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::errorf("cannot read prompt file {}", path);
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) prompts.push_back(line);
  }
  if (prompts.empty()) return Status::errorf("prompt file {} has no prompts (one per line)", path);
  return prompts;
}

}  // namespace corral::cli::bench
