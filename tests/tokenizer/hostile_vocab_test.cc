// Vocabularies from untrusted files: every inconsistency is an error Status, and whatever
// loads can encode and decode anything without crashing.
#include <gtest/gtest.h>

#include <random>

#include "gguf/gguf_writer.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace corral {
namespace {

using gguf::GgufWriter;
using gguf::Value;
using gguf::ValueType;

// A small SPM vocabulary: <unk> <s> </s>, 256 byte tokens, a few pieces.
struct SpmSpec {
  std::vector<std::string> tokens;
  std::vector<double> scores;
  std::vector<int64_t> types;
  SpmSpec() {
    tokens = {"<unk>", "<s>", "</s>"};
    types = {2, 3, 3};
    for (int b = 0; b < 256; ++b) {
      tokens.push_back(fmt::format("<0x{:02X}>", b));
      types.push_back(6);
    }
    for (const char* t : {"▁", "a", "b", "▁a", "ab", "▁ab", "▁b"}) {
      tokens.push_back(t);
      types.push_back(1);
    }
    scores.assign(tokens.size(), 0.0);
    for (size_t i = 259; i < tokens.size(); ++i) scores[i] = -static_cast<double>(i);
  }
  GgufWriter writer() const {
    GgufWriter w;
    w.set_string("tokenizer.ggml.model", "llama");
    w.set("tokenizer.ggml.tokens", Value::string_array(tokens));
    w.set("tokenizer.ggml.scores", Value::float_array(ValueType::kFloat32, scores));
    w.set("tokenizer.ggml.token_type", Value::int_array(ValueType::kInt32, types));
    w.set_u32("tokenizer.ggml.bos_token_id", 1);
    w.set_u32("tokenizer.ggml.eos_token_id", 2);
    return w;
  }
};

GgufWriter bpe_writer(std::vector<std::string> tokens, std::vector<std::string> merges,
                      const std::string& pre = "gpt-2") {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", pre);
  w.set("tokenizer.ggml.token_type", Value::int_array(ValueType::kInt32, std::vector<int64_t>(tokens.size(), 1)));
  w.set("tokenizer.ggml.tokens", Value::string_array(std::move(tokens)));
  w.set("tokenizer.ggml.merges", Value::string_array(std::move(merges)));
  return w;
}

Result<std::shared_ptr<const Tokenizer>> load(const GgufWriter& w) {
  auto file = gguf::GgufFile::from_bytes(w.to_bytes());
  if (!file) return file.status();
  return Tokenizer::from_gguf(**file);
}

void expect_error(const GgufWriter& w, const std::string& fragment) {
  auto r = load(w);
  ASSERT_FALSE(r.is_ok()) << "expected an error mentioning '" << fragment << "'";
  EXPECT_NE(r.error().find(fragment), std::string::npos) << r.error();
}

// Exercises a loaded tokenizer with arbitrary input; must never crash.
void hammer(const Tokenizer& tok, std::mt19937& rng) {
  for (int i = 0; i < 20; ++i) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) {
      switch (rng() % 4) {
        case 0: text += static_cast<char>(rng() % 256); break;
        case 1: text += " "; break;
        case 2: text += tok.vocab().text(static_cast<int32_t>(rng() % tok.n_tokens())); break;
        default: text += "é日🚀"; break;
      }
    }
    const auto ids = tok.encode(text, rng() % 2, rng() % 2);
    for (int32_t id : ids) ASSERT_TRUE(tok.vocab().valid_id(id));
    std::vector<int32_t> noisy = ids;
    noisy.push_back(-1);
    noisy.push_back(tok.n_tokens());
    noisy.push_back(static_cast<int32_t>(rng()));
    (void)tok.decode(noisy, rng() % 2);
    StreamDecoder dec(tok, {"a", "\xE2\x96"});
    for (int32_t id : noisy) {
      const std::string chunk = dec.push(id);
      ASSERT_EQ(tokenizer_detail::sanitize_utf8(chunk), chunk);
    }
    (void)dec.finish();
  }
}

TEST(HostileVocab, MinimalSpmWorks) {
  auto tok = load(SpmSpec().writer());
  ASSERT_TRUE(tok.is_ok()) << tok.error();
  EXPECT_EQ((*tok)->encode("ab a", true, false), (std::vector<int32_t>{1, 264, 262}));
  EXPECT_EQ((*tok)->decode((*tok)->encode("ab a\xF0\x9F\x9A\x80", false, false)), "ab a\xF0\x9F\x9A\x80");
  std::mt19937 rng(1);
  hammer(**tok, rng);
}

TEST(HostileVocab, MismatchedArrayLengths) {
  SpmSpec s;
  s.scores.pop_back();
  expect_error(s.writer(), "tokenizer.ggml.scores has");
  SpmSpec t;
  t.types.push_back(1);
  expect_error(t.writer(), "tokenizer.ggml.token_type has");
}

TEST(HostileVocab, SpecialIdsOutOfRange) {
  SpmSpec s;
  GgufWriter w = s.writer();
  w.set_u32("tokenizer.ggml.bos_token_id", 100000);
  expect_error(w, "bos_token_id");
  w.set_i32("tokenizer.ggml.bos_token_id", -7);
  expect_error(w, "bos_token_id");
  w = s.writer();
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(s.tokens.size()));
  expect_error(w, "eos_token_id");
  w = s.writer();
  w.set_string("tokenizer.ggml.eos_token_id", "2");
  expect_error(w, "eos_token_id is not an integer");
  // Converters write -1 / 0xFFFFFFFF for "none"; optional ids out of range are ignored.
  w = s.writer();
  w.set_u32("tokenizer.ggml.seperator_token_id", 0xFFFFFFFFu);
  w.set_i32("tokenizer.ggml.padding_token_id", -1);
  w.set_u32("tokenizer.ggml.eot_token_id", 1u << 30);
  auto ok = load(w);
  ASSERT_TRUE(ok.is_ok()) << ok.error();
  EXPECT_EQ((*ok)->vocab().sep(), kNoToken);
  EXPECT_EQ((*ok)->vocab().eot(), kNoToken);
}

TEST(HostileVocab, StructuralErrors) {
  SpmSpec s;
  GgufWriter w = s.writer();
  w.set_string("tokenizer.ggml.model", "t5");
  expect_error(w, "unsupported tokenizer model 't5'");
  w = s.writer();
  w.set("tokenizer.ggml.tokens", Value::int_array(ValueType::kInt32, {1, 2, 3}));
  expect_error(w, "tokenizer.ggml.tokens is not a string array");
  w = s.writer();
  w.set("tokenizer.ggml.tokens", Value::string_array({}));
  expect_error(w, "tokenizer.ggml.tokens has 0 entries");
  w = s.writer();
  w.set("tokenizer.ggml.scores", Value::string_array(std::vector<std::string>(s.tokens.size(), "x")));
  expect_error(w, "tokenizer.ggml.scores is not an integer array");
  w = s.writer();
  w.set_u32("tokenizer.ggml.model", 3);
  expect_error(w, "tokenizer.ggml.model");

  SpmSpec dup;
  dup.tokens[261] = "a";  // "a" is already token 260
  expect_error(dup.writer(), "duplicate token 'a'");

  GgufWriter none;
  none.set_string("general.architecture", "llama");
  expect_error(none, "tokenizer.ggml.model is missing");
}

TEST(HostileVocab, BpeErrors) {
  GgufWriter w = bpe_writer({"a", "b", "ab"}, {"a b"});
  w.set("tokenizer.ggml.merges", Value::int_array(ValueType::kInt32, {1}));
  expect_error(w, "merges is not a string array");
  expect_error(bpe_writer({"a", "b"}, {}, "no-such-pre"), "unknown pre-tokenizer type 'no-such-pre'");
  GgufWriter no_merges = bpe_writer({"a", "b"}, {});
  no_merges.set("tokenizer.ggml.merges", Value::from_bool(true));
  expect_error(no_merges, "merges");
  // add_bos without any BOS token (GPT-2's default id 11 is past this vocabulary).
  GgufWriter bos = bpe_writer({"a", "b"}, {"a b"});
  bos.set_bool("tokenizer.ggml.add_bos_token", true);
  expect_error(bos, "add_bos_token is set but there is no BOS token");
}

TEST(HostileVocab, IncompleteBpeVocabularyStillEncodes) {
  // No byte alphabet, merges naming tokens that do not exist, a malformed merge, odd types.
  GgufWriter w =
      bpe_writer({"a", "b", "Ġ", "ab", "<|x|>", "<0xZZ>"}, {"a b", "Ġ a", "q r", "nospace", "ab ab"}, "llama-bpe");
  w.set("tokenizer.ggml.token_type", Value::int_array(ValueType::kInt32, {1, 1, 1, 1, 3, 6}));
  w.set_bool("tokenizer.ggml.add_bos_token", false);  // llama-bpe's default, but no BOS here
  auto tok = load(w);
  ASSERT_TRUE(tok.is_ok()) << tok.error();
  // "ab" is a token (taken whole); "Ġab" merges a+b, and no merge joins Ġ with ab.
  EXPECT_EQ((*tok)->encode("ab ab", false, false), (std::vector<int32_t>{3, 2, 3}));
  EXPECT_EQ((*tok)->encode("<|x|>", false, true), (std::vector<int32_t>{4}));
  EXPECT_EQ((*tok)->token_bytes(5), "");  // malformed byte token renders as nothing
  std::mt19937 rng(2);
  hammer(**tok, rng);
}

TEST(HostileVocab, SpmWithoutByteTokensUsesUnk) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set("tokenizer.ggml.tokens", Value::string_array({"<unk>", "<s>", "</s>", "▁", "h", "i", "▁h"}));
  w.set("tokenizer.ggml.token_type", Value::int_array(ValueType::kInt32, {2, 3, 3, 1, 1, 1, 1}));
  auto tok = load(w);
  ASSERT_TRUE(tok.is_ok()) << tok.error();
  // "▁hi日" -> ▁h i <unk>: one <unk> per character the vocabulary cannot spell.
  EXPECT_EQ((*tok)->encode("hi日", false, false), (std::vector<int32_t>{6, 5, 0}));
}

TEST(HostileVocab, RandomVocabulariesNeverCrash) {
  std::mt19937 rng(1234);
  const std::vector<std::string> atoms = {"a",   "b", "ab",   " ",        "▁",      "Ġ",    "<", ">",  "|",
                                          "<s>", "é", "\xFF", "\xE6\x97", "<0x41>", "<0xZ", "",  "  ", "\n"};
  int loaded = 0;
  for (int iter = 0; iter < 300; ++iter) {
    const size_t n = 1 + rng() % 40;
    std::vector<std::string> tokens;
    for (size_t i = 0; i < n; ++i) {
      std::string t;
      for (size_t k = 0, len = rng() % 4; k < len; ++k) t += atoms[rng() % atoms.size()];
      // Mostly unique (duplicates are rejected, which is tested above), sometimes bare.
      tokens.push_back(rng() % 8 == 0 ? t : t + std::to_string(i));
    }
    std::vector<int64_t> types(n);
    for (auto& t : types) t = static_cast<int64_t>(rng() % 9) - 1;
    std::vector<double> scores(n);
    for (auto& s : scores) s = static_cast<double>(static_cast<int>(rng() % 21) - 10);
    GgufWriter w;
    const bool bpe = rng() % 2;
    w.set_string("tokenizer.ggml.model", bpe ? "gpt2" : "llama");
    if (bpe) {
      const char* pres[] = {"gpt-2",     "llama-bpe", "qwen2",     "deepseek-llm", "deepseek-coder", "falcon",
                            "starcoder", "tekken",    "chameleon", "default",      "bloom"};
      w.set_string("tokenizer.ggml.pre", pres[rng() % std::size(pres)]);
      std::vector<std::string> merges;
      for (size_t i = 0, m = rng() % 30; i < m; ++i) { merges.push_back(tokens[rng() % n] + " " + tokens[rng() % n]); }
      w.set("tokenizer.ggml.merges", Value::string_array(merges));
    }
    w.set("tokenizer.ggml.tokens", Value::string_array(tokens));
    if (rng() % 4) w.set("tokenizer.ggml.token_type", Value::int_array(ValueType::kInt32, types));
    if (rng() % 4) w.set("tokenizer.ggml.scores", Value::float_array(ValueType::kFloat32, scores));
    if (rng() % 2) w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(rng() % (n + 2)));
    if (rng() % 2) w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(rng() % (n + 2)));
    if (rng() % 3 == 0) w.set_bool("tokenizer.ggml.add_bos_token", rng() % 2);
    if (rng() % 3 == 0) w.set_bool("tokenizer.ggml.add_space_prefix", rng() % 2);
    auto tok = load(w);
    if (!tok) continue;  // an error is fine; a crash is not
    ++loaded;
    hammer(**tok, rng);
  }
  EXPECT_GT(loaded, 100);
}

}  // namespace
}  // namespace corral
