// Special tokens written in text: recognised only when parse_special says so (chat templates
// need it; user content must not be able to inject control tokens), strip rules, EOG set.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"

namespace corral::testing {
namespace {

bool contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST(TokenizerSpecial, Llama3EotIdOnlyWhenParsing) {
  auto tok = load_tokenizer("vocab/ggml-vocab-llama-bpe.gguf");
  ASSERT_NE(tok, nullptr);
  const int32_t eot = tok->vocab().find("<|eot_id|>");
  ASSERT_EQ(eot, 128009);
  const std::string text = "Hi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";

  const auto parsed = tok->encode(text, false, true);
  EXPECT_TRUE(contains(parsed, eot));
  EXPECT_TRUE(contains(parsed, 128006));  // <|start_header_id|>
  EXPECT_EQ(parsed.front(), tok->encode("Hi!", false, false).front());

  const auto plain = tok->encode(text, false, false);
  for (int32_t id : plain) EXPECT_LT(id, 128000) << "a control token was injected";
  EXPECT_EQ(tok->decode(plain), text);

  // With add_special the vocabulary's BOS comes first either way.
  EXPECT_EQ(tok->encode(text, true, true).front(), 128000);
  EXPECT_EQ(tok->encode("<|begin_of_text|>x", true, true),
            (std::vector<int32_t>{128000, 128000, tok->encode("x", false, false)[0]}));

  // Rendering: control tokens are invisible unless asked for.
  EXPECT_EQ(tok->decode({eot}), "");
  EXPECT_EQ(tok->decode({eot}, /*render_special=*/true), "<|eot_id|>");
  EXPECT_EQ(tok->token_bytes(eot), "");
  EXPECT_EQ(tok->decode(parsed, true), text);
}

TEST(TokenizerSpecial, QwenImStartOnlyWhenParsing) {
  auto tok = load_tokenizer("vocab/ggml-vocab-qwen2.gguf");
  ASSERT_NE(tok, nullptr);
  const std::string text = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n";
  const auto parsed = tok->encode(text, false, true);
  ASSERT_GE(parsed.size(), 5u);
  EXPECT_EQ(parsed.front(), 151644);
  EXPECT_EQ(std::count(parsed.begin(), parsed.end(), 151644), 2);
  EXPECT_EQ(std::count(parsed.begin(), parsed.end(), 151645), 1);
  EXPECT_EQ(tok->decode(parsed, true), text);
  EXPECT_EQ(tok->decode(parsed), "user\nhello\nassistant\n");

  const auto plain = tok->encode(text, false, false);
  for (int32_t id : plain) EXPECT_LT(id, 151643);
  EXPECT_EQ(tok->decode(plain), text);
  EXPECT_FALSE(tok->vocab().add_bos());
  EXPECT_EQ(tok->encode("x", true, false), tok->encode("x", false, false));
}

TEST(TokenizerSpecial, SpmTextAfterSpecialGetsItsSpace) {
  auto tok = load_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_NE(tok, nullptr);
  // "<s>Hello" -> <s> then "▁Hello": the text after a special token is prefixed like the
  // start of the input.
  const auto ids = tok->encode("<s>Hello</s>", false, true);
  const auto hello = tok->encode("Hello", false, false);
  std::vector<int32_t> expected = {1};
  expected.insert(expected.end(), hello.begin(), hello.end());
  expected.push_back(2);
  EXPECT_EQ(ids, expected);
  // Not parsed: plain text, and no id 1 or 2 anywhere.
  const auto plain = tok->encode("<s>Hello</s>", true, false);
  EXPECT_EQ(plain.front(), 1);  // the BOS that add_special adds
  EXPECT_FALSE(contains(std::vector<int32_t>(plain.begin() + 1, plain.end()), 1));
  EXPECT_FALSE(contains(plain, 2));
}

TEST(TokenizerSpecial, Phi3SpecialTokensEatFollowingWhitespace) {
  auto tok = load_tokenizer("vocab/ggml-vocab-phi-3.gguf");
  ASSERT_NE(tok, nullptr);
  const int32_t user = tok->vocab().find("<|user|>");
  ASSERT_EQ(user, 32010);
  EXPECT_TRUE(tok->vocab().attr(user) & token_attr::kRstrip);
  const auto ids = tok->encode("<|user|>\n  Hello", false, true);
  std::vector<int32_t> expected = {user};
  const auto hello = tok->encode("Hello", false, false);
  expected.insert(expected.end(), hello.begin(), hello.end());
  EXPECT_EQ(ids, expected);
  // </s> is a user-defined token in this vocabulary: recognised even when not parsing.
  EXPECT_TRUE(contains(tok->encode("a</s>b", false, false), 2));
}

TEST(TokenizerSpecial, UserDefinedTokensAreAlwaysRecognised) {
  // DeepSeek-Coder's added tokens are user-defined, and Hugging Face (hence the vectors)
  // splits them out of any text.
  auto tok = load_tokenizer("vocab/ggml-vocab-deepseek-coder.gguf");
  ASSERT_NE(tok, nullptr);
  const int32_t eot = tok->vocab().find("<|EOT|>");
  ASSERT_GE(eot, 0);
  EXPECT_TRUE(tok->vocab().is_user_defined(eot));
  EXPECT_TRUE(contains(tok->encode("x<|EOT|>y", false, false), eot));
  // Its control tokens are not.
  EXPECT_FALSE(contains(tok->encode("<｜begin▁of▁sentence｜>", false, false), 32013));
  EXPECT_EQ(tok->encode("<｜begin▁of▁sentence｜>", false, true), (std::vector<int32_t>{32013}));
}

TEST(TokenizerSpecial, EndOfGenerationSets) {
  auto llama3 = load_tokenizer("vocab/ggml-vocab-llama-bpe.gguf");
  auto qwen = load_tokenizer("vocab/ggml-vocab-qwen2.gguf");
  auto phi3 = load_tokenizer("vocab/ggml-vocab-phi-3.gguf");
  auto spm = load_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(llama3 && qwen && phi3 && spm);
  EXPECT_TRUE(llama3->is_eog(128001));  // <|end_of_text|> (eos)
  EXPECT_TRUE(llama3->is_eog(128009));  // <|eot_id|>
  EXPECT_FALSE(llama3->is_eog(128006));
  EXPECT_EQ(llama3->vocab().eot(), 128009);
  EXPECT_TRUE(qwen->is_eog(151643));  // <|endoftext|>
  EXPECT_TRUE(qwen->is_eog(151645));  // <|im_end|>
  EXPECT_FALSE(qwen->is_eog(151644));
  EXPECT_TRUE(phi3->is_eog(32000));  // <|endoftext|> (eos)
  EXPECT_TRUE(phi3->is_eog(32007));  // <|end|>
  EXPECT_TRUE(spm->is_eog(2));
  EXPECT_FALSE(spm->is_eog(1));
  EXPECT_FALSE(spm->is_eog(-1));
  EXPECT_FALSE(spm->is_eog(1 << 30));
}

// gpt-oss's harmony tokens, as llama.cpp re-types them at load (the GGUF stores all of them as
// control): generation ends at <|return|> and <|call|> (and <|endoftext|>) but not at <|end|>,
// which only closes a message; <|start|>, <|channel|>, <|message|>, <|constrain|> and <|end|>
// become user-defined, so they show in the text (the harmony parser reads the channels from it)
// and are matched in raw text even without parse_special.
TEST(TokenizerSpecial, HarmonyTokens) {
  auto tok = load_tokenizer("vocab/ggml-vocab-syn-gptoss.gguf");
  ASSERT_NE(tok, nullptr);
  const Vocab& v = tok->vocab();
  const int32_t endoftext = v.find("<|endoftext|>"), ret = v.find("<|return|>"), call = v.find("<|call|>");
  const int32_t end = v.find("<|end|>"), start = v.find("<|start|>"), channel = v.find("<|channel|>");
  const int32_t message = v.find("<|message|>"), constrain = v.find("<|constrain|>");
  ASSERT_EQ(end, 1021);
  EXPECT_EQ(v.eog_ids(), (std::vector<int32_t>{endoftext, ret, call}));
  EXPECT_FALSE(tok->is_eog(end));
  EXPECT_EQ(v.eos(), ret);
  for (int32_t id : {end, start, channel, message, constrain}) {
    EXPECT_TRUE(v.is_user_defined(id)) << v.text(id);
    EXPECT_FALSE(v.is_control(id)) << v.text(id);
  }
  for (int32_t id : {endoftext, ret, call, v.find("<|startoftext|>")}) EXPECT_TRUE(v.is_control(id)) << v.text(id);

  // A harmony reply in raw text: the structural tokens are found without parse_special, the
  // control token <|return|> is not (it stays plain text).
  const std::string reply = "<|channel|>final<|message|>Hi<|end|><|return|>";
  const auto ids = tok->encode(reply, false, false);
  EXPECT_EQ(ids.front(), channel);
  EXPECT_TRUE(contains(ids, message));
  EXPECT_TRUE(contains(ids, end));
  EXPECT_FALSE(contains(ids, ret));
  EXPECT_EQ(tok->encode(reply, false, true).back(), ret);
  // Rendering: the structural tokens show, the end-of-generation ones do not.
  EXPECT_EQ(tok->decode({start, channel, message, constrain, end}),
            "<|start|><|channel|><|message|><|constrain|><|end|>");
  EXPECT_EQ(tok->decode({ret, call, endoftext}), "");
}

TEST(TokenizerSpecial, TokenBytesForConstrainedDecoding) {
  auto spm = load_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  auto bpe = load_tokenizer("vocab/ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(spm && bpe);
  EXPECT_EQ(spm->token_bytes(spm->vocab().find("<0x0A>")), "\n");
  EXPECT_EQ(spm->token_bytes(spm->vocab().find("<0xE6>")), "\xE6");
  EXPECT_EQ(spm->token_bytes(spm->vocab().find("▁Hello")), " Hello");
  EXPECT_EQ(spm->token_bytes(0), "");  // <unk>
  EXPECT_EQ(spm->token_bytes(1), "");  // <s>
  EXPECT_EQ(bpe->token_bytes(bpe->vocab().find("Ġworld")), " world");
  EXPECT_EQ(bpe->token_bytes(bpe->vocab().find("Ċ")), "\n");
  EXPECT_EQ(bpe->token_bytes(50256), "");  // <|endoftext|>
  EXPECT_EQ(bpe->token_bytes(-3), "");
  EXPECT_EQ(bpe->token_bytes(1 << 20), "");
  // Every token's bytes are what decode() of that token alone yields in a byte-level vocab.
  for (int32_t id = 0; id < bpe->n_tokens(); id += 97) { EXPECT_EQ(bpe->token_bytes(id), std::string(bpe->piece(id))); }
}

}  // namespace
}  // namespace corral::testing
