// Random walks through synthetic vocabularies under JSON constraints: whatever allowed token
// is picked at each step, the output must parse and validate against the schema.
#include "sampling/json_token_filter.h"

#include <gtest/gtest.h>

#include <random>

#include "schema_validator.h"

namespace corral::sampling {
namespace {

using testing::json;
using testing::ojson;
using testing::schema_errors;

constexpr int32_t kEog = 0;

// Two special tokens (ids 0, 1: empty bytes), every single byte (ids 2..257), JSON-ish
// tokens, then random multi-byte strings.
std::vector<std::string> synthetic_vocab(uint32_t seed) {
  std::vector<std::string> v = {"", ""};
  for (int b = 0; b < 256; ++b) v.push_back(std::string(1, static_cast<char>(b)));
  for (const char* t : {"{\"",
                        "\":",
                        "\": ",
                        "\",",
                        "\", \"",
                        "\"}",
                        "\"]",
                        "true",
                        "false",
                        "null",
                        "  ",
                        "\n",
                        "\n  ",
                        "},",
                        "}]",
                        "[{",
                        "[]",
                        "{}",
                        "0",
                        "12",
                        "-1",
                        ".5",
                        "e+",
                        "E-",
                        "00",
                        "\\n",
                        "\\\"",
                        "\\u00e9",
                        "\\uD83D",
                        "\\uDE00",
                        "\\u",
                        "\xC3\xA9",
                        "\xE2\x82\xAC",
                        "\xF0\x9F\x98\x80",
                        "\xF0\x9F",
                        "\x98\x80",
                        "\"name\"",
                        "name",
                        "\"age\":",
                        "age",
                        "street",
                        "\"red\"",
                        "red",
                        "green",
                        "\"blue\",",
                        "shape",
                        "points",
                        "\"x\":",
                        "\"y\":",
                        "1.5",
                        "\"label\":",
                        "meta",
                        "\": {",
                        "\": [",
                        "\": \"",
                        "\": true",
                        "\"}}",
                        " ",
                        "   ",
                        "\t",
                        "\r\n",
                        "},{\""}) {
    v.push_back(t);
  }
  std::mt19937 rng(seed);
  const std::string alphabet = "abcdexyz \"{}[],:0123456789-.eE\\/tnu\n";
  for (int i = 0; i < 400; ++i) {
    std::string s;
    const int len = 2 + rng() % 7;
    for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    v.push_back(s);
  }
  return v;
}

int32_t byte_token(uint8_t b) { return 2 + b; }

struct WalkStats {
  int natural_ends = 0;  // runs that ended by picking the end token
  int completed = 0;     // runs closed with bytes_to_complete()
};

// One random walk; returns the generated text. check_all compares the mask with allows() for
// every token (slow; exercises the trie walk against direct feeding).
std::string walk(const std::shared_ptr<const TokenTrie>& vocab, const std::shared_ptr<const JsonProgram>& program,
                 std::mt19937& rng, int max_steps, bool check_all, WalkStats& stats) {
  JsonTokenFilter filter(vocab, program, {kEog});
  std::vector<uint8_t> mask(vocab->n_vocab());
  std::vector<int32_t> allowed;
  std::string out;
  for (int step = 0; step < max_steps; ++step) {
    filter.allowed(mask);
    allowed.clear();
    for (int32_t t = 0; t < vocab->n_vocab(); ++t) {
      if (mask[t]) allowed.push_back(t);
      if (check_all) { EXPECT_EQ(mask[t] != 0, filter.allows(t)) << "token " << t << " after " << out; }
    }
    if (allowed.empty()) {
      ADD_FAILURE() << "dead end after: " << out;
      return out;
    }
    EXPECT_EQ(mask[1], 0) << "special tokens are never allowed";
    // End as soon as the end token is allowed half of the time, so some runs end naturally.
    int32_t t = allowed[rng() % allowed.size()];
    if (mask[kEog] && rng() % 2) t = kEog;
    EXPECT_TRUE(filter.accept(t));
    if (t == kEog) {
      EXPECT_TRUE(filter.finished());
      ++stats.natural_ends;
      return out;
    }
    out += vocab->bytes(t);
  }
  // Out of budget: finish with single-byte tokens spelling bytes_to_complete().
  const std::string rest = filter.bytes_to_complete();
  for (char c : rest) EXPECT_TRUE(filter.accept(byte_token(static_cast<uint8_t>(c)))) << out;
  out += rest;
  EXPECT_TRUE(filter.complete());
  EXPECT_TRUE(filter.allows(kEog));
  ++stats.completed;
  return out;
}

void run_schema(const char* schema_text, int runs, uint32_t seed) {
  const ojson schema = ojson::parse(schema_text);
  auto program = compile_json_schema(schema);
  ASSERT_TRUE(program.is_ok()) << program.error();
  auto vocab = std::make_shared<const TokenTrie>(synthetic_vocab(seed));
  std::mt19937 rng(seed);
  WalkStats stats;
  for (int run = 0; run < runs; ++run) {
    const int budget = run % 2 ? 250 : 5 + rng() % 60;  // long walks and forced completions
    const std::string out = walk(vocab, *program, rng, budget, run < 3, stats);
    json value;
    try {
      value = json::parse(out);
    } catch (const json::exception& e) {
      FAIL() << "run " << run << " output does not parse (" << e.what() << "): " << out;
    }
    const std::string errors = schema_errors(value, schema, schema);
    ASSERT_EQ(errors, "") << "run " << run << ": " << out;
  }
  // Both ways of ending must have been exercised.
  EXPECT_GT(stats.natural_ends, 0);
  EXPECT_GT(stats.completed, 0);
}

constexpr int kRuns = 500;

TEST(JsonTokenFilter, NestedObjectsWithRequiredAndOptional) {
  run_schema(R"({"type":"object","properties":{
      "name":{"type":"string","minLength":1,"maxLength":20},
      "age":{"type":"integer","minimum":0},
      "email":{"type":"string"},
      "address":{"type":"object","properties":{
          "street":{"type":"string"},"zip":{"type":"string","maxLength":5}},"required":["street"]},
      "score":{"type":"number"}},
    "required":["name","age","address"]})",
             kRuns, 1);
}

TEST(JsonTokenFilter, ArraysOfEnums) {
  run_schema(R"({"type":"object","properties":{
      "colors":{"type":"array","items":{"enum":["red","green","blue","re"]},"minItems":1,"maxItems":4},
      "sizes":{"type":"array","items":{"enum":[1,12,1.5,true,null,"x",{"k":[1]}]}}},
    "required":["colors","sizes"]})",
             kRuns, 2);
}

TEST(JsonTokenFilter, IntegersVersusNumbers) {
  run_schema(R"({"type":"object","properties":{
      "i":{"type":"integer"},"n":{"type":"number"},
      "list":{"type":"array","items":{"type":"integer"},"minItems":2},
      "maybe":{"type":["number","null"]}},
    "required":["i","n","list","maybe"]})",
             kRuns, 3);
}

TEST(JsonTokenFilter, RefsUnionsConstsAndMaps) {
  run_schema(R"({"$defs":{"point":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},
                                    "required":["x","y"]}},
    "type":"object","properties":{
      "kind":{"const":"shape"},
      "points":{"type":"array","items":{"$ref":"#/$defs/point"},"maxItems":3},
      "label":{"anyOf":[{"type":"string","maxLength":8},{"type":"null"},{"type":"array","items":{"type":"boolean"}}]},
      "meta":{"type":"object","additionalProperties":{"type":"boolean"}},
      "extra":{}},
    "required":["kind","points","label","meta"]})",
             kRuns, 4);
}

TEST(JsonTokenFilter, ScalarAndArrayRoots) {
  run_schema(R"({"type":"array","items":{"type":"string","minLength":2},"minItems":2})", kRuns, 5);
  run_schema(R"({"type":["string","integer","boolean"]})", kRuns, 6);
  run_schema(R"({"enum":[3, 31, 314, "pi"]})", kRuns, 7);
}

TEST(JsonTokenFilter, FreeFormJsonObject) {
  auto vocab = std::make_shared<const TokenTrie>(synthetic_vocab(8));
  auto program = json_any_program(/*root_object=*/true);
  std::mt19937 rng(8);
  WalkStats stats;
  for (int run = 0; run < kRuns; ++run) {
    const std::string out = walk(vocab, program, rng, run % 2 ? 250 : 30, run < 3, stats);
    json value;
    ASSERT_NO_THROW(value = json::parse(out)) << out;
    ASSERT_TRUE(value.is_object()) << out;
  }
}

TEST(JsonTokenFilter, EndTokenOnlyWhenCompleteAndNothingAfterIt) {
  auto vocab = std::make_shared<const TokenTrie>(synthetic_vocab(9));
  JsonTokenFilter f(vocab, json_any_program(true), {kEog});
  EXPECT_FALSE(f.allows(kEog));
  EXPECT_FALSE(f.accept(kEog));
  EXPECT_FALSE(f.allows(1));  // a special token with no bytes
  EXPECT_FALSE(f.accept(byte_token('[')));
  ASSERT_TRUE(f.accept(byte_token('{')));
  EXPECT_EQ(f.bytes_to_complete(), "}");
  ASSERT_TRUE(f.accept(byte_token('}')));
  EXPECT_TRUE(f.complete());
  EXPECT_TRUE(f.allows(kEog));
  EXPECT_TRUE(f.allows(byte_token('\n')));  // bounded trailing whitespace
  EXPECT_FALSE(f.allows(byte_token('x')));
  ASSERT_TRUE(f.accept(kEog));
  EXPECT_TRUE(f.finished());
  std::vector<uint8_t> mask(vocab->n_vocab());
  f.allowed(mask);
  for (uint8_t m : mask) ASSERT_EQ(m, 0);
  EXPECT_EQ(f.bytes_to_complete(), "");
}

TEST(JsonTokenFilter, TrieKeepsDuplicateAndPrefixTokens) {
  const std::vector<std::string> tokens = {"", "a", "ab", "a", "abc", "b", "", "ab"};
  TokenTrie trie(tokens);
  EXPECT_EQ(trie.n_vocab(), 8);
  EXPECT_EQ(trie.max_depth(), 3);
  // Pre-order: a(1,3) ab(2,7) abc(4) b(5).
  std::vector<std::pair<std::string, std::vector<int32_t>>> seen;
  std::string path;
  for (const auto& n : trie.nodes()) {
    path.resize(n.depth - 1);
    path += static_cast<char>(n.byte);
    std::vector<int32_t> ids(trie.tokens().begin() + n.tok_begin, trie.tokens().begin() + n.tok_end);
    seen.push_back({path, ids});
  }
  const std::vector<std::pair<std::string, std::vector<int32_t>>> expected = {
      {"a", {1, 3}}, {"ab", {2, 7}}, {"abc", {4}}, {"b", {5}}};
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(trie.bytes(4), "abc");
  EXPECT_EQ(trie.bytes(6), "");
}

// kStringContent promises that every token below stays inside a free string: the walk marks
// such subtrees without stepping through them. (It is conservative: escapes such as \n are
// acceptable text but not flagged.)
TEST(JsonTokenFilter, StringContentFlagIsSound) {
  const TokenTrie trie(synthetic_vocab(10));
  const auto program = json_any_program(false);
  JsonConstraint in_string(program.get());
  ASSERT_TRUE(in_string.step('"'));
  ASSERT_TRUE(in_string.in_free_string());
  size_t flagged_tokens = 0;  // tokens under a flagged node, each counted once
  uint32_t covered_until = 0;
  for (uint32_t i = 0; i < trie.nodes().size(); ++i) {
    const auto& n = trie.nodes()[i];
    if (!(n.flags & TokenTrie::kStringContent)) continue;
    if (i >= covered_until) {
      flagged_tokens += n.subtree_end - n.tok_begin;
      covered_until = n.end;
    }
    for (uint32_t k = n.tok_begin; k < n.subtree_end; ++k) {
      JsonConstraint c = in_string;
      const std::string_view bytes = trie.bytes(trie.tokens()[k]);
      ASSERT_TRUE(c.feed(bytes)) << bytes;
      EXPECT_EQ(c.bytes_to_complete().back(), '"') << bytes;  // still inside the string
    }
  }
  EXPECT_GT(flagged_tokens, trie.tokens().size() / 2);
}

}  // namespace
}  // namespace corral::sampling
