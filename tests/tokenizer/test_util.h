// Helpers shared by the tokenizer tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/test_data.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace corral::testing {

// Loads the tokenizer of a GGUF under the shared data directory (a vocab or a whole model);
// fails the test and returns null if that is impossible.
inline std::shared_ptr<const Tokenizer> load_tokenizer(const std::string& rel_path) {
  const std::string path = test_data_path(rel_path);
  auto file = gguf::GgufFile::open(path);
  if (!file) {
    ADD_FAILURE() << path << ": " << file.error();
    return nullptr;
  }
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok) {
    ADD_FAILURE() << path << ": " << tok.error();
    return nullptr;
  }
  return *tok;
}

inline std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

}  // namespace corral::testing
