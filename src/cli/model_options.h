// Options shared by the local model commands (generate, logits): which file, how many threads.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace corral::cli {

struct LocalModelOptions {
  std::string model_path;
  int threads = 0;  // 0 = physical cores
};

void add_local_model_options(CLI::App* cmd, LocalModelOptions& o);
// Parses "1,2,3" into token ids; false on malformed input.
bool parse_token_list(const std::string& s, std::vector<int32_t>* out);

}  // namespace corral::cli
