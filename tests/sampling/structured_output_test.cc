// Structured output end to end at the sampling layer: request fields -> program -> filter ->
// Sampler with its full chain over random logits.
#include "sampling/structured_output.h"

#include <gtest/gtest.h>

#include <random>

#include "sampling/json_constraint.h"
#include "sampling/json_token_filter.h"
#include "sampling/sampler.h"
#include "schema_validator.h"

namespace corral::sampling {
namespace {

using testing::json;
using testing::ojson;

bool accepts(const std::shared_ptr<const JsonProgram>& p, std::string_view text) {
  JsonConstraint c(p.get());
  return c.feed(text) && c.complete();
}

TEST(StructuredOutput, OllamaFormat) {
  auto none = program_for_format(ojson());
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none.value(), nullptr);
  EXPECT_EQ(program_for_format(ojson("")).value(), nullptr);

  auto any = program_for_format(ojson("json"));
  ASSERT_TRUE(any.is_ok());
  EXPECT_TRUE(accepts(any.value(), R"({"a":[1]})"));
  EXPECT_FALSE(accepts(any.value(), "[1]"));

  auto schema =
      program_for_format(ojson::parse(R"({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]})"));
  ASSERT_TRUE(schema.is_ok());
  EXPECT_TRUE(accepts(schema.value(), R"({"n":3})"));

  EXPECT_NE(program_for_format(ojson("yaml")).error().find("expected \"json\" or a JSON schema"), std::string::npos);
  EXPECT_NE(program_for_format(ojson(5)).error().find("invalid format"), std::string::npos);
  const std::string bad = program_for_format(ojson::parse(R"({"type":"string","pattern":"x"})")).error();
  EXPECT_NE(bad.find("invalid JSON schema in format: #: \"pattern\" is not supported"), std::string::npos) << bad;
}

TEST(StructuredOutput, OpenAIResponseFormat) {
  EXPECT_EQ(program_for_response_format(ojson()).value(), nullptr);
  EXPECT_EQ(program_for_response_format(ojson::parse(R"({"type":"text"})")).value(), nullptr);
  auto obj = program_for_response_format(ojson::parse(R"({"type":"json_object"})"));
  ASSERT_TRUE(obj.is_ok());
  EXPECT_TRUE(accepts(obj.value(), "{}"));
  auto schema = program_for_response_format(ojson::parse(
      R"({"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":{"type":"array","items":{"type":"boolean"}}}})"));
  ASSERT_TRUE(schema.is_ok()) << schema.error();
  EXPECT_TRUE(accepts(schema.value(), "[true,false]"));
  EXPECT_FALSE(program_for_response_format(ojson::parse(R"({"type":"json_schema"})")).is_ok());
  EXPECT_FALSE(program_for_response_format(ojson::parse(R"({"type":"xml"})")).is_ok());
  EXPECT_FALSE(program_for_response_format(ojson("json")).is_ok());
}

// Vocabulary: end token, every byte, and a few hundred random multi-byte pieces.
std::vector<std::string> vocab_pieces() {
  std::vector<std::string> v = {""};
  for (int b = 0; b < 256; ++b) v.push_back(std::string(1, static_cast<char>(b)));
  std::mt19937 rng(77);
  const std::string alphabet = "abcxyz \"{}[],:0123456789-.e\\ntrufals";
  for (int i = 0; i < 500; ++i) {
    std::string s;
    for (int k = 0, n = 2 + rng() % 6; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    v.push_back(s);
  }
  return v;
}

// Generates with the full default chain (temperature 0.8, top-k 40, top-p 0.9, penalties)
// over random logits; stops at the end token or closes the value when the budget runs out.
std::string generate(const std::shared_ptr<const TokenTrie>& vocab, const std::shared_ptr<const JsonProgram>& program,
                     int64_t seed, int budget) {
  SamplingParams params;
  params.seed = seed;
  Sampler sampler(params, vocab->n_vocab());
  sampler.accept_prompt(std::vector<int32_t>{5, 6, 7});
  sampler.set_token_filter(std::make_unique<JsonTokenFilter>(vocab, program, std::vector<int32_t>{0}));
  std::mt19937 logit_rng(static_cast<uint32_t>(seed));
  std::normal_distribution<float> noise(0.0f, 2.0f);
  std::vector<float> logits(vocab->n_vocab());
  std::string out;
  for (int step = 0; step < budget; ++step) {
    for (auto& l : logits) l = noise(logit_rng);
    logits[0] += 2.0f;  // a model that likes to stop
    const int32_t t = sampler.sample(logits.data());
    EXPECT_NE(t, Sampler::kNoToken);
    if (t == Sampler::kNoToken) return out;
    sampler.accept(t);
    if (t == 0) return out;
    out += vocab->bytes(t);
  }
  return out + sampler.token_filter()->bytes_to_complete();
}

TEST(StructuredOutput, SampledOutputsAlwaysValidateAndSeedsReproduce) {
  const ojson schema = ojson::parse(R"({"type":"object","properties":{
      "title":{"type":"string","maxLength":12},
      "year":{"type":"integer","minimum":0},
      "rating":{"type":"number"},
      "genres":{"type":"array","items":{"enum":["drama","comedy","noir"]},"maxItems":3},
      "sequel":{"type":["boolean","null"]}},
    "required":["title","year","genres"]})");
  auto program = program_for_format(schema);
  ASSERT_TRUE(program.is_ok()) << program.error();
  auto vocab = std::make_shared<const TokenTrie>(vocab_pieces());
  for (int64_t seed = 1; seed <= 50; ++seed) {
    const std::string out = generate(vocab, program.value(), seed, 120);
    json value;
    ASSERT_NO_THROW(value = json::parse(out)) << "seed " << seed << ": " << out;
    EXPECT_EQ(testing::schema_errors(value, schema, schema), "") << "seed " << seed << ": " << out;
    if (seed <= 5) { EXPECT_EQ(out, generate(vocab, program.value(), seed, 120)) << "seed " << seed; }
  }
}

}  // namespace
}  // namespace corral::sampling
