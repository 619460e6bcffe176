// 100 KB of mixed text through each tokenizer family: it must round-trip exactly and split into a
// plausible number of tokens (the time is printed for information, never asserted: performance is
// measured in bench/), and concurrent use of one Tokenizer from several threads.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "test_util.h"

namespace corral::testing {
namespace {

// ~100 KB of prose, code, numbers, whitespace runs, CJK and emoji.
std::string hundred_kb_text() {
  const std::string chunk =
      "Once upon a time, in a quiet village by the sea, there lived a girl named Lily. She "
      "loved to read books about faraway places and dreamed of sailing across the ocean.\n\n"
      "def tokenize(text: str) -> list[int]:\n    \"\"\"Split text into tokens.\"\"\"\n"
      "    return [ord(c) for c in text if c != ' ']  # 42 ids, 3.14159\n\n"
      "The invoice #2024-07-15 totals $1,234,567.89 (incl. 19% VAT).   Spaces   and\ttabs.\n"
      "日本語のテキストと中文的句子，还有한국어 문장. Emoji: 🚀🎉👩‍👩‍👧 Ünïcödé — ok?\n";
  std::string text;
  while (text.size() < 100 * 1024) text += chunk;
  return text;
}

// Llama 3's vocabulary decodes with clean_up_tokenization_spaces (" !=" -> "!=", as llama.cpp
// and Hugging Face do): its round trip is exact except for spaces.
std::string without_spaces(std::string s) {
  std::erase(s, ' ');
  return s;
}

void encode_large_input(const std::string& vocab, bool parse_special = false, bool cleans_spaces = false) {
  auto tok = load_tokenizer(vocab);
  ASSERT_NE(tok, nullptr);
  const std::string text = hundred_kb_text();
  (void)tok->encode(text, false, parse_special);  // warm caches
  const auto t0 = std::chrono::steady_clock::now();
  const auto ids = tok->encode(text, false, parse_special);
  const auto t1 = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  std::printf("[ timing ] %s%s: %zu bytes -> %zu tokens in %.1f ms (%.1f MB/s, one thread)\n", vocab.c_str(),
              parse_special ? " (parse_special)" : "", text.size(), ids.size(), ms, text.size() / ms / 1000.0);
  // Every vocabulary here is byte-level BPE or SPM with byte fallback: any text, emoji and CJK
  // included, decodes back to itself (SPM adds one leading space, the "▁" prefix of its first word).
  std::string back = tok->decode(ids);
  if (back.size() == text.size() + 1 && back[0] == ' ') back.erase(0, 1);
  if (cleans_spaces)
    EXPECT_TRUE(without_spaces(back) == without_spaces(text)) << vocab << ": the round trip changed the text";
  else EXPECT_TRUE(back == text) << vocab << ": the round trip changed the text";
  // Real merges happened (not one token per byte) and nothing was dropped: between 1 and 8
  // bytes per token on average for this mix of prose, code and multi-byte scripts.
  EXPECT_LT(ids.size(), text.size()) << vocab;
  EXPECT_GT(ids.size(), text.size() / 8) << vocab;
}

TEST(TokenizerLargeInput, HundredKilobytesQwen2) { encode_large_input("vocab/ggml-vocab-qwen2.gguf"); }
TEST(TokenizerLargeInput, HundredKilobytesLlamaSpm) { encode_large_input("vocab/ggml-vocab-llama-spm.gguf"); }
TEST(TokenizerLargeInput, HundredKilobytesLlama3) {
  encode_large_input("vocab/ggml-vocab-llama-bpe.gguf", false, /*cleans_spaces=*/true);
  encode_large_input("vocab/ggml-vocab-llama-bpe.gguf", /*parse_special=*/true,
                     /*cleans_spaces=*/true);  // 256 control tokens
}
// 2,398 user-defined tokens are searched for in any text.
TEST(TokenizerLargeInput, HundredKilobytesDeepseekLlm) { encode_large_input("vocab/ggml-vocab-deepseek-llm.gguf"); }

TEST(TokenizerThreads, ConcurrentEncodeMatchesSequential) {
  for (const char* vocab : {"vocab/ggml-vocab-qwen2.gguf", "vocab/ggml-vocab-llama-spm.gguf"}) {
    auto tok = load_tokenizer(vocab);
    ASSERT_NE(tok, nullptr);
    const std::string text = hundred_kb_text().substr(0, 20000);
    const auto expected = tok->encode(text, true, true);
    std::vector<std::vector<int32_t>> results(4);
    std::vector<std::thread> threads;
    for (auto& r : results) {
      threads.emplace_back([&tok, &text, &r] {
        for (int i = 0; i < 5; ++i) r = tok->encode(text, true, true);
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& r : results) EXPECT_EQ(r, expected) << vocab;
  }
}

}  // namespace
}  // namespace corral::testing
