#include "cli/model_options.h"

#include <charconv>

namespace corral::cli {

void add_local_model_options(CLI::App* cmd, LocalModelOptions& o) {
  cmd->add_option("--model,-m", o.model_path, "GGUF model file")->required();
  cmd->add_option("--threads,-t", o.threads, "compute threads (default: physical cores)");
}

bool parse_token_list(const std::string& s, std::vector<int32_t>* out) {
  out->clear();
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    int32_t v;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + j, v);
    if (ec != std::errc() || p != s.data() + j) return false;
    out->push_back(v);
    i = j + 1;
  }
  return !out->empty();
}

}  // namespace corral::cli
