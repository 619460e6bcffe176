// llama.cpp's tokenizer test vectors (models/ggml-vocab-*.gguf.inp/.out): every string must
// encode to exactly the listed ids, without BOS/EOS and with special-token text taken as text.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"

namespace corral::testing {
namespace {

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(sep, pos)) != std::string::npos; pos = hit + sep.size()) {
    parts.push_back(s.substr(pos, hit - pos));
  }
  parts.push_back(s.substr(pos));
  return parts;
}

class VocabVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabVectors, ExactIds) {
  const std::string base = "vocab/ggml-vocab-" + GetParam() + ".gguf";
  auto tok = load_tokenizer(base);
  ASSERT_NE(tok, nullptr);

  // Strings are separated by "\n__ggml_vocab_test__\n", which also ends the file.
  std::vector<std::string> inputs = split(read_file(test_data_path(base + ".inp")), "\n__ggml_vocab_test__\n");
  ASSERT_FALSE(inputs.empty());
  ASSERT_EQ(inputs.back(), "");
  inputs.pop_back();
  const std::vector<std::string> lines = split(read_file(test_data_path(base + ".out")), "\n");
  ASSERT_GE(lines.size(), inputs.size());

  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<int32_t> expected;
    std::istringstream in(lines[i]);
    for (int32_t id; in >> id;) expected.push_back(id);
    const std::vector<int32_t> got = tok->encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
    if (got != expected) {
      ++failures;
      ADD_FAILURE() << GetParam() << " string " << i << " '" << inputs[i] << "'\n  expected:" << ids_to_string(expected)
                    << "\n  got:     " << ids_to_string(got);
    }
  }
  EXPECT_EQ(failures, 0) << "of " << inputs.size() << " strings";
}

// Every vocabulary in ../shared/vocab that has both a GGUF and vectors.
INSTANTIATE_TEST_SUITE_P(Tokenizer, VocabVectors,
                         ::testing::Values("deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-bpe",
                                           "llama-spm", "mpt", "phi-3", "qwen2", "refact", "starcoder", "syn-qwen3",
                                           "syn-gemma3", "syn-phi3", "syn-gptoss", "bert-bge", "syn-nomic-bert"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace corral::testing
