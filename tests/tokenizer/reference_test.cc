// The llama.cpp reference cases (../shared/reference): prompt token ids, the detokenized
// prompt and the text of the greedy continuation must come out exactly as llama.cpp b4748's.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/utf8.h"

namespace corral::testing {
namespace {

using nlohmann::json;

std::string hex_decode(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) { out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)); }
  return out;
}

struct Case {
  std::string name;
  std::string model;  // relative to the data dir
  json data;
};

// The cases of <dir>/index.json; for reference-families only those of the families the engine
// runs (the index's "models" names each file's architecture).
std::vector<Case> load_cases(const std::string& dir = "reference") {
  const json index = json::parse(read_file(test_data_path(dir + "/index.json")));
  static const std::vector<std::string> kFamilies = {"qwen3", "phi3", "gemma3", "qwen3moe", "gpt-oss"};
  std::vector<Case> cases;
  for (const json& c : index.at("cases")) {
    const std::string model = c.at("model").get<std::string>();
    if (index.contains("models")) {
      const std::string arch = index.at("models").at(model.substr(model.rfind('/') + 1)).at("arch").get<std::string>();
      if (std::find(kFamilies.begin(), kFamilies.end(), arch) == kFamilies.end()) continue;
    }
    cases.push_back({c.at("case").get<std::string>(), model,
                     json::parse(read_file(test_data_path(dir + "/" + c.at("json").get<std::string>())))});
  }
  return cases;
}

std::vector<Case> family_cases() { return load_cases("reference-families"); }

// Loads each model's tokenizer once.
const Tokenizer* tokenizer_for(const std::string& model) {
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
  auto& slot = cache[model];
  if (!slot) slot = load_tokenizer(model);
  return slot.get();
}

void check_prompt_ids(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const Tokenizer* tok = tokenizer_for(c.model);
    ASSERT_NE(tok, nullptr) << c.name;
    const bool add_bos = c.data.at("add_bos").get<bool>();
    EXPECT_EQ(tok->vocab().add_bos(), add_bos) << c.name << ": the vocabulary's own BOS default";
    const auto expected = c.data.at("tokens").get<std::vector<int32_t>>();
    const auto got = tok->encode(c.data.at("prompt").get<std::string>(), /*add_special=*/true,
                                 /*parse_special=*/false);
    EXPECT_EQ(got, expected) << c.name << "\n  expected:" << ids_to_string(expected)
                             << "\n  got:     " << ids_to_string(got);
    // The vocabulary strings of those ids.
    const auto texts = c.data.at("token_texts").get<std::vector<std::string>>();
    for (size_t i = 0; i < expected.size() && i < texts.size(); ++i) {
      EXPECT_EQ(tok->vocab().text(expected[i]), texts[i]) << c.name << " token " << i;
    }
  }
}

TEST(TokenizerReference, PromptIdsMatchEveryCase) {
  const std::vector<Case> cases = load_cases();
  ASSERT_EQ(cases.size(), 125u);
  check_prompt_ids(cases);
}

TEST(TokenizerReference, FamiliesPromptIdsMatchEveryCase) {
  const std::vector<Case> cases = family_cases();
  ASSERT_EQ(cases.size(), 80u);  // qwen3, phi3, gemma3, qwen3moe: 3 files x 5 prompts; gpt-oss: 4 files
  check_prompt_ids(cases);
}

void check_detokenized(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const Tokenizer* tok = tokenizer_for(c.model);
    ASSERT_NE(tok, nullptr) << c.name;
    auto ids = c.data.at("tokens").get<std::vector<int32_t>>();
    if (c.data.at("add_bos").get<bool>()) ids.erase(ids.begin());
    EXPECT_EQ(tok->decode(ids), c.data.at("detokenized_prompt").get<std::string>()) << c.name;
  }
}

TEST(TokenizerReference, DetokenizedPromptMatchesEveryCase) { check_detokenized(load_cases()); }
TEST(TokenizerReference, FamiliesDetokenizedPromptMatchesEveryCase) { check_detokenized(family_cases()); }

void check_greedy_text(const std::vector<Case>& cases) {
  int valid = 0;
  for (const Case& c : cases) {
    const Tokenizer* tok = tokenizer_for(c.model);
    ASSERT_NE(tok, nullptr) << c.name;
    const json& g = c.data.at("greedy");
    const auto ids = g.at("ids").get<std::vector<int32_t>>();
    std::string bytes;
    for (int32_t id : ids) bytes += tok->token_bytes(id);
    // The exact bytes, and the text with invalid bytes shown as U+FFFD.
    EXPECT_EQ(bytes, hex_decode(g.at("text_hex").get<std::string>())) << c.name;
    EXPECT_EQ(tokenizer_detail::sanitize_utf8(bytes), g.at("text").get<std::string>()) << c.name;

    // Streaming the same ids emits the same text, in valid UTF-8 chunks (the reference renders
    // control and unknown tokens as nothing, as llama-server does; Ollama would show "<unk>").
    StreamDecoder dec(*tok, {}, {.render_special = false});
    std::string streamed;
    for (int32_t id : ids) {
      const std::string chunk = dec.push(id);
      EXPECT_EQ(tokenizer_detail::sanitize_utf8(chunk), chunk) << c.name;
      streamed += chunk;
    }
    streamed += dec.finish();
    EXPECT_EQ(streamed, g.at("text").get<std::string>()) << c.name;
    if (g.at("text_valid_utf8").get<bool>()) {
      ++valid;
      EXPECT_EQ(bytes, g.at("text").get<std::string>()) << c.name;
    }
  }
  EXPECT_GT(valid, 0);
}

// The end-of-generation set, BOS and EOS of each family's vocabulary, as ik_llama.cpp derives
// them (reference-families/index.json "models"; e.g. gemma3's <end_of_turn> by its text).
TEST(TokenizerReference, FamiliesEndOfGenerationTokens) {
  const json index = json::parse(read_file(test_data_path("reference-families/index.json")));
  int checked = 0;
  for (const Case& c : family_cases()) {
    const Tokenizer* tok = tokenizer_for(c.model);
    ASSERT_NE(tok, nullptr) << c.name;
    const json& m = index.at("models").at(c.model.substr(c.model.rfind('/') + 1));
    std::vector<int32_t> eog = tok->vocab().eog_ids();
    std::sort(eog.begin(), eog.end());
    EXPECT_EQ(eog, m.at("eog_ids").get<std::vector<int32_t>>()) << c.name;
    EXPECT_EQ(tok->vocab().bos(), m.at("bos").get<int32_t>()) << c.name;
    EXPECT_EQ(tok->vocab().eos(), m.at("eos").get<int32_t>()) << c.name;
    ++checked;
  }
  EXPECT_EQ(checked, 80);
}

// nomic-bert's embedding cases (WordPiece): [CLS] ... [SEP] ids for each prompt, the pieces'
// texts, and the detokenized prompt (llama.cpp's: BERT's spacing cleaned, [SEP] shown as nothing).
TEST(TokenizerReference, EmbeddingCasesPromptIdsAndText) {
  const json index = json::parse(read_file(test_data_path("reference-families/index.json")));
  int checked = 0;
  for (const json& e : index.at("embedding_cases")) {
    const std::string name = e.at("case").get<std::string>();
    const json c = json::parse(read_file(test_data_path("reference-families/" + e.at("json").get<std::string>())));
    const Tokenizer* tok = tokenizer_for(e.at("model").get<std::string>());
    ASSERT_NE(tok, nullptr) << name;
    EXPECT_TRUE(tok->vocab().add_bos()) << name;
    const auto expected = c.at("tokens").get<std::vector<int32_t>>();
    const auto got = tok->encode(c.at("prompt").get<std::string>(), /*add_special=*/true, /*parse_special=*/false);
    EXPECT_EQ(got, expected) << name << "\n  expected:" << ids_to_string(expected)
                             << "\n  got:     " << ids_to_string(got);
    const auto texts = c.at("token_texts").get<std::vector<std::string>>();
    for (size_t i = 0; i < expected.size() && i < texts.size(); ++i)
      EXPECT_EQ(tok->vocab().text(expected[i]), texts[i]) << name << " token " << i;
    const std::vector<int32_t> without_cls(expected.begin() + 1, expected.end());
    EXPECT_EQ(tok->decode(without_cls), c.at("detokenized_prompt").get<std::string>()) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 10);
}

TEST(TokenizerReference, GreedyTextMatchesEveryCase) { check_greedy_text(load_cases()); }
TEST(TokenizerReference, FamiliesGreedyTextMatchesEveryCase) { check_greedy_text(family_cases()); }

}  // namespace
}  // namespace corral::testing
