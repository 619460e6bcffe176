// Command-line values shared by `corral bench` and `corral tune`: lists of integers
// ("1,2,4,8"), durations ("90", "90s", "1m30s") and prompt files.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace corral::cli::bench {

// "1,2,4,8" -> {1, 2, 4, 8}; every value within [lo, hi]; `what` names the option in errors.
Result<std::vector<int>> parse_int_list(const std::string& s, int lo, int hi, const std::string& what);
// Prints "Error: <message>" to stderr, as every corral command does; returns exit code 1.
int print_error(const std::string& message);
inline int print_error(const Status& s) { return print_error(s.message()); }

// Seconds from a plain number or a Go duration ("30s", "2m", "1h30m"); must be > 0.
Result<double> parse_seconds(const std::string& s, const std::string& what);
// One prompt per non-empty line.
Result<std::vector<std::string>> read_prompt_file(const std::string& path);

}  // namespace corral::cli::bench
