// decode(encode(s)) == s wherever the vocabulary can represent s: SPM vocabularies with byte
// fallback and byte-level BPE vocabularies (for the latter only where clean_spaces is off or
// the text has nothing it would tidy, and only for valid UTF-8).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "test_util.h"

namespace corral::testing {
namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> c = {
      "Hello world",
      "  two leading spaces",
      "trailing spaces   ",
      " ",
      "\n",
      "\n\n\n",
      "\t tab then space \t\t",
      "line one\nline two\r\nline three\n\n  indented\n\tand tabbed",
      "日本語のテキストです。中文文本也可以。한국어 텍스트",
      "Café déjà vu — naïve façade, Ünïcödé",
      "Кириллица и ελληνικά και עברית ועברית",
      "हिन्दी पाठ और தமிழ் உரை",
      "emoji 🚀🎉 family 👩‍👩‍👧‍👦 flag 🇯🇵 skin 👋🏽 zwj 😶‍🌫️",
      "numbers 1234567890 3.14159 1,000,000 0x1F600",
      "code:\n    def f(x):\n        return x ** 2  # square\n\n\n    print(f(3))\n",
      "mixed\u00a0nbsp\u2003em-space\u3000ideographic\u2028line-sep",
      "symbols ~!@#$%^&*()_+`-=[]{}|\\;:'\"<>/?",
      "control \x01\x02\x7f chars",
      std::string(1000, ' ') + "after a long run of spaces",
      std::string(3000, 'a'),
      "<|im_start|> <|eot_id|> <s> </s> look like special tokens but are text",
  };
  // Deterministic pseudo-random strings over a mixed alphabet.
  const std::vector<std::string> alphabet = {"a", "Z", "0", "9",  " ",  "  ", "\n",       "\t", ".",      ",",
                                             "'", "é", "ß", "日", "語", "🚀",  "👍🏻", "—",  "\u00a0", "ك"};
  std::mt19937 rng(42);
  for (int i = 0; i < 40; ++i) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    c.push_back(s);
  }
  return c;
}

void expect_round_trips(const std::string& vocab, bool skip_clean_triggers) {
  auto tok = load_tokenizer(vocab);
  ASSERT_NE(tok, nullptr);
  for (const std::string& s : corpus()) {
    if (skip_clean_triggers) {
      // clean_spaces rewrites " ." " ," " ?" " !" " '" on decode, as Hugging Face does.
      bool trigger = false;
      for (const char* t : {" .", " ,", " ?", " !", " '"}) trigger |= s.find(t) != std::string::npos;
      if (trigger) continue;
    }
    const std::vector<int32_t> ids = tok->encode(s, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(tok->decode(ids), s) << vocab << ": '" << s << "' ->" << ids_to_string(ids);
    // With BOS (and rendered specials off) the text is the same after the BOS.
    std::vector<int32_t> with_bos = tok->encode(s, /*add_special=*/true, /*parse_special=*/false);
    if (tok->vocab().add_bos()) {
      ASSERT_FALSE(with_bos.empty());
      EXPECT_EQ(with_bos.front(), tok->vocab().bos());
      with_bos.erase(with_bos.begin());
    }
    EXPECT_EQ(with_bos, ids) << vocab;
  }
}

TEST(TokenizerRoundTrip, LlamaSpm) { expect_round_trips("vocab/ggml-vocab-llama-spm.gguf", false); }
TEST(TokenizerRoundTrip, Phi3) { expect_round_trips("vocab/ggml-vocab-phi-3.gguf", false); }
TEST(TokenizerRoundTrip, Stories260K) { expect_round_trips("models/stories260K.gguf", false); }
TEST(TokenizerRoundTrip, SynLlama) { expect_round_trips("models/synthetic/syn-llama-f32.gguf", false); }
TEST(TokenizerRoundTrip, Qwen2) { expect_round_trips("vocab/ggml-vocab-qwen2.gguf", false); }
TEST(TokenizerRoundTrip, SynQwen2) { expect_round_trips("models/synthetic/syn-qwen2-f32.gguf", false); }
TEST(TokenizerRoundTrip, DeepseekLlm) { expect_round_trips("vocab/ggml-vocab-deepseek-llm.gguf", false); }
TEST(TokenizerRoundTrip, DeepseekCoder) { expect_round_trips("vocab/ggml-vocab-deepseek-coder.gguf", false); }
TEST(TokenizerRoundTrip, LlamaBpe) { expect_round_trips("vocab/ggml-vocab-llama-bpe.gguf", true); }
TEST(TokenizerRoundTrip, SynLlama3) { expect_round_trips("models/synthetic/syn-llama3-f32.gguf", true); }
TEST(TokenizerRoundTrip, Gpt2) { expect_round_trips("vocab/ggml-vocab-gpt-2.gguf", true); }

TEST(TokenizerRoundTrip, SpmKeepsInvalidUtf8ThroughByteTokens) {
  auto tok = load_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_NE(tok, nullptr);
  // Symbols are cut by lead byte without validation (as in llama.cpp), so a broken lead byte
  // takes the next bytes with it; they come back byte for byte as long as no escaped space is
  // among them.
  const std::string bad =
      "ok \x80\xbf half \xc3"
      "x \xff\xfe"
      "ab end \xe6\x97";
  EXPECT_EQ(tok->decode(tok->encode(bad, false, false)), bad);
}

TEST(TokenizerRoundTrip, BpeReplacesInvalidUtf8) {
  // Byte-level BPE decodes its input to code points first, as llama.cpp does: a bad byte
  // becomes U+FFFD.
  auto tok = load_tokenizer("vocab/ggml-vocab-qwen2.gguf");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->decode(tok->encode("a\xff"
                                    "b",
                                    false, false)),
            "a\xef\xbf\xbd"
            "b");
}

TEST(TokenizerRoundTrip, CleanSpacesOnDecode) {
  // GPT-2 style vocabularies tidy spacing on decode exactly as llama.cpp's detokenizer.
  auto tok = load_tokenizer("vocab/ggml-vocab-gpt-2.gguf");
  ASSERT_NE(tok, nullptr);
  const std::string s = "Hello , world ! Is it ' quoted ' ? It 's , we 're , I 'm , they 've , don 't .";
  EXPECT_EQ(tok->decode(tok->encode(s, false, false)),
            "Hello, world! Is it'quoted '? It's, we're, I'm, they've, don 't.");
}

}  // namespace
}  // namespace corral::testing

namespace corral::testing {
namespace {

TEST(TokenizerRoundTrip, VocabWithoutByteTokens) {
  // TinyStories-656K's SPM vocabulary has no <0xXX> tokens: plain English round-trips, a
  // character it cannot spell becomes <unk> (llama.cpp would abort on the missing byte token).
  auto tok = load_tokenizer("models/tinystories-656k-f32.gguf");
  ASSERT_NE(tok, nullptr);
  const std::string story = "Once upon a time, there was a little dog.\nHe liked to run!";
  EXPECT_EQ(tok->decode(tok->encode(story, false, false)), story);
  const int32_t unk = tok->vocab().unk();
  ASSERT_EQ(unk, 0);
  const auto ids = tok->encode("a 日 b", false, false);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), unk), 1) << ids_to_string(ids);
}

}  // namespace
}  // namespace corral::testing
