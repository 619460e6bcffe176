// The commands that work on GGUF files directly: generate, logits, tokenize, detokenize, synth.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/reference.h"
#include "common/test_data.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

TEST(LocalCommands, GenerateGreedyMatchesTheReferenceStory) {
  const auto cases = load_reference_cases();
  auto it = std::find_if(cases.begin(), cases.end(), [](const auto& c) { return c.name == "stories260K__once"; });
  ASSERT_NE(it, cases.end());
  auto [st, out] = run_corral("generate -m " + q(it->model_path) + " -p " + q(it->prompt) + " -n 200 -t 1");
  ASSERT_EQ(st, 0) << out;
  EXPECT_EQ(out, it->greedy_text + "\n");
}

TEST(LocalCommands, LogitsWritesTheReferenceLayout) {
  const auto cases = load_reference_cases();
  auto it = std::find_if(cases.begin(), cases.end(), [](const auto& c) { return c.name == "syn-qwen2-f32__once"; });
  ASSERT_NE(it, cases.end());
  std::string ids;
  for (int32_t t : it->tokens) ids += (ids.empty() ? "" : ",") + std::to_string(t);
  const std::string out_path = ::testing::TempDir() + "/logits.f32";
  auto [st, out] = run_corral("logits -m " + q(it->model_path) + " --tokens " + ids + " -o " + q(out_path));
  ASSERT_EQ(st, 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out).get<std::vector<int32_t>>(), it->tokens);
  const auto ref = load_reference_logits(*it);
  std::ifstream f(out_path, std::ios::binary);
  std::vector<float> got(ref.size());
  f.read(reinterpret_cast<char*>(got.data()), static_cast<std::streamsize>(got.size() * 4));
  ASSERT_TRUE(f);
  double err = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    err += (got[i] - ref[i]) * (got[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  EXPECT_LT(err / norm, 1e-8);
}

TEST(LocalCommands, TokenizeAndDetokenize) {
  const std::string vocab = test_data_path("vocab/ggml-vocab-llama-bpe.gguf");
  auto [st, out] = run_corral("tokenize -m " + q(vocab) + " -p 'Hello world<|eot_id|>'");
  ASSERT_EQ(st, 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out), nlohmann::json::parse("[128000,9906,1917,128009]"));
  auto [st2, out2] = run_corral("tokenize -m " + q(vocab) + " -p 'Hello world<|eot_id|>' --no-bos --no-special");
  ASSERT_EQ(st2, 0);
  EXPECT_GT(nlohmann::json::parse(out2).size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(out2)[0], 9906);
  auto [st3, out3] = run_corral("detokenize -m " + q(vocab) + " --ids 9906,1917");
  ASSERT_EQ(st3, 0);
  EXPECT_EQ(out3, "Hello world\n");
  auto [st4, out4] = run_corral("tokenize -m /nonexistent.gguf -p x");
  EXPECT_NE(st4, 0);
  EXPECT_NE(out4.find("Error:"), std::string::npos);
}

TEST(LocalCommands, SynthWritesALoadableModel) {
  const std::string path = ::testing::TempDir() + "/synth.gguf";
  auto [st, out] = run_corral("synth --preset tiny --type q4_k_m --n-layer 2 -o " + q(path));
  ASSERT_EQ(st, 0) << out;
  auto [st2, out2] = run_corral("generate -m " + q(path) + " -p hello -n 4");
  EXPECT_EQ(st2, 0) << out2;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace corral::testing
