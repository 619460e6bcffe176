#include "common/test_data.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace corral::testing {

std::string test_data_dir() {
  if (const char* env = std::getenv("CORRAL_TEST_DATA"); env && *env) return env;
  return std::string(CORRAL_SOURCE_DIR) + "/../shared";
}

std::string test_data_path(const std::string& rel) {
  std::string p = test_data_dir() + "/" + rel;
  if (!std::filesystem::exists(p)) {
    ADD_FAILURE() << "missing test data: " << p << " (set CORRAL_TEST_DATA to the shared data directory)";
  }
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace corral::testing
