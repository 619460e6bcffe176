// StreamDecoder: UTF-8 holdback across byte tokens, stop sequences across token boundaries.
#include "tokenizer/stream_decoder.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "tokenizer/utf8.h"

namespace corral::testing {
namespace {

class StreamDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spm_ = load_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
    ASSERT_NE(spm_, nullptr);
  }
  // The <0xXX> byte token of b.
  int32_t byte(uint8_t b) const { return spm_->vocab().byte_token(b); }
  std::vector<int32_t> bytes(std::string_view s) const {
    std::vector<int32_t> ids;
    for (char c : s) ids.push_back(byte(static_cast<uint8_t>(c)));
    return ids;
  }
  int32_t token(std::string_view text) const {
    const int32_t id = spm_->vocab().find(text);
    EXPECT_GE(id, 0) << "no token '" << text << "'";
    return id;
  }
  std::shared_ptr<const Tokenizer> spm_;
};

TEST_F(StreamDecoderTest, EmojiSplitOverFourByteTokens) {
  StreamDecoder dec(*spm_, {});
  const std::string rocket = "\xF0\x9F\x9A\x80";  // U+1F680
  const auto ids = bytes(rocket);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(dec.push(token("▁go")), " go");
  EXPECT_EQ(dec.push(ids[0]), "");
  EXPECT_EQ(dec.push(ids[1]), "");
  EXPECT_EQ(dec.push(ids[2]), "");
  EXPECT_EQ(dec.push(ids[3]), rocket);
  EXPECT_EQ(dec.finish(), "");
  EXPECT_EQ(dec.emitted(), " go" + rocket);
}

TEST_F(StreamDecoderTest, CjkAndCompleteCharactersFlushImmediately) {
  StreamDecoder dec(*spm_, {});
  // 日 = E6 97 A5, then a normal token completes nothing but must flush with it.
  EXPECT_EQ(dec.push(byte(0xE6)), "");
  EXPECT_EQ(dec.push(byte(0x97)), "");
  EXPECT_EQ(dec.push(byte(0xA5)), "日");
  EXPECT_EQ(dec.push(byte(0xE6)), "");
  EXPECT_EQ(dec.push(token("▁the")), "\xEF\xBF\xBD the");  // E6 can no longer complete
}

TEST_F(StreamDecoderTest, UnfinishedCharacterAtEndBecomesReplacement) {
  StreamDecoder dec(*spm_, {});
  EXPECT_EQ(dec.push(token("▁a")), " a");
  EXPECT_EQ(dec.push(byte(0xF0)), "");
  EXPECT_EQ(dec.push(byte(0x9F)), "");
  EXPECT_EQ(dec.finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(dec.emitted(), " a\xEF\xBF\xBD");
}

TEST_F(StreamDecoderTest, InvalidByteIsReplacedAtOnce) {
  StreamDecoder dec(*spm_, {});
  EXPECT_EQ(dec.push(byte(0xFF)), "\xEF\xBF\xBD");
  EXPECT_EQ(dec.push(byte(0x80)), "\xEF\xBF\xBD");  // a stray continuation byte
}

TEST_F(StreamDecoderTest, StopSequenceAcrossThreeTokensIsNeverEmitted) {
  // "▁Hello" "▁wor" "ld" with stop "lo world": the stop starts inside the first token.
  StreamDecoder dec(*spm_, {"lo world"});
  EXPECT_EQ(dec.push(token("▁Say")), " Say");
  EXPECT_EQ(dec.push(token("▁Hello")), " Hel");  // "lo" might start the stop: held
  EXPECT_FALSE(dec.stopped());
  EXPECT_EQ(dec.push(token("▁wor")), "");
  EXPECT_EQ(dec.push(token("ld")), "");
  EXPECT_TRUE(dec.stopped());
  EXPECT_EQ(dec.matched_stop(), "lo world");
  EXPECT_EQ(dec.push(token("▁again")), "");  // nothing after a stop
  EXPECT_EQ(dec.finish(), "");
  EXPECT_EQ(dec.emitted(), " Say Hel");
}

TEST_F(StreamDecoderTest, StopSequenceInsideOneTokenEmitsTextBeforeIt) {
  StreamDecoder dec(*spm_, {"ell"});
  EXPECT_EQ(dec.push(token("▁Hello")), " H");
  EXPECT_TRUE(dec.stopped());
}

TEST_F(StreamDecoderTest, PrefixThatIsNotAStopIsReleased) {
  StreamDecoder dec(*spm_, {"xyz"});
  EXPECT_EQ(dec.push(token("▁a")), " a");
  EXPECT_EQ(dec.push(byte('x')), "");
  EXPECT_EQ(dec.push(byte('y')), "");
  EXPECT_EQ(dec.push(byte('a')), "xya");  // "xya" can no longer become "xyz"
  EXPECT_EQ(dec.push(byte('x')), "");
  EXPECT_EQ(dec.finish(), "x");  // generation ended: the held prefix is plain text
  EXPECT_FALSE(dec.stopped());
  EXPECT_EQ(dec.emitted(), " axyax");
}

TEST_F(StreamDecoderTest, OverlappingStopCandidates) {
  // Holding must keep the earliest position that could still start a stop.
  StreamDecoder dec(*spm_, {"aab", "ac"});
  EXPECT_EQ(dec.push(byte('a')), "");
  EXPECT_EQ(dec.push(byte('a')), "");   // "aa": could be "aab", or "a" + "ac"
  EXPECT_EQ(dec.push(byte('a')), "a");  // "aaa": the first a can no longer start one
  EXPECT_EQ(dec.push(byte('c')), "a");  // "aac" contains "ac": stop after "a"
  EXPECT_TRUE(dec.stopped());
  EXPECT_EQ(dec.matched_stop(), "ac");
  EXPECT_EQ(dec.emitted(), "aa");
}

TEST_F(StreamDecoderTest, EarliestOfSeveralStopsWins) {
  StreamDecoder dec(*spm_, {"world", "lo"});
  const auto ids = spm_->encode("Hello world", false, false);
  std::string out;
  for (int32_t id : ids) out += dec.push(id);
  EXPECT_TRUE(dec.stopped());
  EXPECT_EQ(dec.matched_stop(), "lo");
  EXPECT_EQ(out, " Hel");
}

TEST_F(StreamDecoderTest, StopMadeOfMultibyteCharacters) {
  // The stop "日本" arrives as six byte tokens after "ok".
  StreamDecoder dec(*spm_, {"日本"});
  std::string out = dec.push(token("▁ok"));
  for (int32_t id : bytes("日本語")) out += dec.push(id);
  EXPECT_TRUE(dec.stopped());
  EXPECT_EQ(out, " ok");
}

TEST_F(StreamDecoderTest, ControlTokensAndLeadingSpaceOptions) {
  {
    StreamDecoder dec(*spm_, {});
    EXPECT_EQ(dec.push(1), "<s>");  // like Ollama, a (non end-of-generation) control token shows
  }
  {
    StreamDecoder dec(*spm_, {}, {.render_special = false});
    EXPECT_EQ(dec.push(1), "");
  }
  {
    // Continuations keep the space of their first token (as Ollama and llama-server stream);
    // text generated from nothing can drop it like llama.cpp's detokenizer.
    StreamDecoder keep(*spm_, {});
    EXPECT_EQ(keep.push(token("▁Once")), " Once");
    StreamDecoder strip(*spm_, {}, {.strip_leading_space = true});
    EXPECT_EQ(strip.push(token("▁Once")), "Once");
    EXPECT_EQ(strip.push(token("▁upon")), " upon");
  }
}

TEST(StreamDecoderBpe, CjkAndEmojiWithByteLevelTokens) {
  // Byte-level BPE tokens split multi-byte characters freely; every chunk must still be valid
  // UTF-8 and the chunks must add up to the text.
  for (const char* vocab :
       {"vocab/ggml-vocab-qwen2.gguf", "models/synthetic/syn-qwen2-f32.gguf", "models/synthetic/syn-llama3-f32.gguf"}) {
    auto tok = load_tokenizer(vocab);
    ASSERT_NE(tok, nullptr);
    const std::string text = "日本語のテキスト 🚀🎉 👩‍👩‍👧 Ünïcödé — 한국어 end";
    const auto ids = tok->encode(text, false, false);
    StreamDecoder dec(*tok, {"never"});
    std::string out;
    int split_chars = 0;
    for (int32_t id : ids) {
      const std::string chunk = dec.push(id);
      EXPECT_EQ(tokenizer_detail::sanitize_utf8(chunk), chunk) << vocab;
      split_chars += chunk.empty();
      out += chunk;
    }
    out += dec.finish();
    EXPECT_EQ(out, text) << vocab;
    if (std::string(vocab).find("syn-") != std::string::npos) {
      EXPECT_GT(split_chars, 0) << "expected tokens that end inside a character";
    }
  }
}

}  // namespace
}  // namespace corral::testing
