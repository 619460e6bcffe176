#include "sampling/json_constraint.h"

#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

namespace corral::sampling {
namespace {

JsonLimits unlimited() {
  JsonLimits l;
  l.max_ws_run = 0;
  l.max_depth = 0;  // kMaxJsonDepth
  l.max_int_digits = 0;
  l.max_frac_digits = 0;
  l.max_exp_digits = 0;
  return l;
}

bool accepts(const JsonProgram& p, std::string_view text) {
  JsonConstraint c(&p);
  return c.feed(text) && c.complete();
}

// nlohmann's verdict, except where it only differs because a number overflows a double
// (grammar-wise valid; the recogniser checks syntax) or because of a leading byte order mark.
enum class Reference { kValid, kInvalid, kSkip };
Reference reference(const std::string& text) {
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) return Reference::kSkip;
  try {
    const auto parsed = nlohmann::json::parse(text);
    (void)parsed;
    return Reference::kValid;
  } catch (const nlohmann::json::exception& e) {
    if (std::string(e.what()).find("number overflow") != std::string::npos) return Reference::kSkip;
    return Reference::kInvalid;
  }
}

const std::vector<std::string> kValid = {
    "{}",
    "[]",
    " {} ",
    "\t[ ]\r\n",
    "0",
    "-0",
    "1",
    "-12",
    "0.5",
    "-0.0e0",
    "1E+2",
    "1e-2",
    "12.34E56",
    "true",
    "false",
    "null",
    "\"\"",
    "\"a\"",
    "[[]]",
    "[[[{}]]]",
    "{\"\":\"\"}",
    "{\"a\":{}}",
    "{\"a\":[{},{\"b\":[]}]}",
    "[1,2,3]",
    "[ 1 , 2 ]",
    "{ \"a\" : 1 , \"b\" : 2 }",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
    "\"\\u0000\"",
    "\"\\u00e9\\u00E9\"",
    "\"\\uD83D\\uDE00\"",
    "\"\\ud83d\\ude00\"",
    "\"\\uFFFF\"",
    "\"\\uD7FF\\uE000\"",
    "\"caf\xC3\xA9\"",
    "\"\xE2\x82\xAC\"",
    "\"\xF0\x9F\x98\x80\"",
    "\"\xF4\x8F\xBF\xBF\"",
    "\"\xEF\xBF\xBF\"",
    "\"\x7F\"",
    "\"/\"",
    "{\"a\":1,\"a\":2}",
    "[true,false,null]",
    "[\"\",\"\"]",
    "1234567890123456789012345",
    "[-1e-7,1.000001]",
    "{\"\\u0041\":\"\\n\"}",
    "[0]",
    "[-0.0]",
};
const std::vector<std::string> kInvalid = {
    "",
    " ",
    "{",
    "}",
    "[",
    "]",
    "[1,]",
    "[,1]",
    "{\"a\"}",
    "{\"a\":}",
    "{\"a\":1,}",
    "{,}",
    "{a:1}",
    "{'a':1}",
    "01",
    "-",
    "-01",
    "1.",
    ".5",
    "1.e1",
    "1e",
    "1e+",
    "+1",
    "0x10",
    "1 2",
    "tru",
    "truee",
    "nul",
    "True",
    "NaN",
    "Infinity",
    "\"",
    "\"\\\"",
    "\"\\x\"",
    "\"\\u12\"",
    "\"\\u12G4\"",
    "\"\\uDC00\"",
    "\"\\uD800\"",
    "\"\\uD800\\u0041\"",
    "\"\\uD800\\uD800\"",
    "\"\\uD800x\"",
    "\"\x01\"",
    "\"a\nb\"",
    "\"\xC0\x80\"",
    "\"\xC1\xBF\"",
    "\"\xED\xA0\x80\"",
    "\"\xF4\x90\x80\x80\"",
    "\"\xF5\x80\x80\x80\"",
    "\"\xFF\"",
    "\"\x80\"",
    "\"\xC3\"",
    "\"\xE2\x82\"",
    "\"\xE0\x9F\xBF\"",
    "\"\xF0\x8F\xBF\xBF\"",
    "[1 2]",
    "{\"a\" 1}",
    "{\"a\"::1}",
    "[]]",
    "{}}",
    "[}",
    "{]",
    "{} {}",
    "[\"a\",]",
    "[-]",
    "[1.]",
    "\"\\U0041\"",
    "/* */ {}",
    "{\"a\":1 /**/}",
};

TEST(JsonConstraint, CorpusAgreesWithNlohmann) {
  const auto program = json_any_program(false, unlimited());
  for (const auto& text : kValid) {
    ASSERT_EQ(reference(text), Reference::kValid) << "corpus error: " << text;
    EXPECT_TRUE(accepts(*program, text)) << text;
  }
  for (const auto& text : kInvalid) {
    ASSERT_EQ(reference(text), Reference::kInvalid) << "corpus error: " << text;
    EXPECT_FALSE(accepts(*program, text)) << text;
  }
}

TEST(JsonConstraint, RejectsAtTheFirstBadByte) {
  const auto program = json_any_program(false, unlimited());
  const std::pair<std::string, size_t> cases[] = {
      {"[01", 2},        {"tru ", 3}, {"{\"a\" 1", 5}, {"\"\\uDC", 4}, {"[1,]", 3},
      {"\"\xED\xA0", 2}, {"{}x", 2},  {"-a", 1},       {"[1.e", 3},
  };
  for (const auto& [text, bad] : cases) {
    JsonConstraint c(program.get());
    for (size_t i = 0; i < text.size(); ++i) {
      const bool ok = c.step(static_cast<uint8_t>(text[i]));
      ASSERT_EQ(ok, i != bad) << text << " byte " << i;
      if (!ok) break;
    }
  }
}

const std::vector<std::string> kSeeds = {
    "{\"a\": [1, 2.5, -3e-2, true, false, null], \"b\": {\"c\": \"d\\n\\u00e9\\uD83D\\uDE00\"}, \"e\": []}",
    "[[[[]]], {}, [{}], \"\", 0, -0, 1E+2, 0.5e-10, {\"k\": {\"l\": [\"m\"]}}]",
    "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \\\\ \\/ \\\"\"",
    " { \"x\" : -12.5e+3 , \"y\" : [ true , null ] } ",
    "123",
};

// Random edits of valid documents: the recogniser must agree with nlohmann on every one.
TEST(JsonConstraint, MutationsAgreeWithNlohmann) {
  const auto program = json_any_program(false, unlimited());
  const std::string alphabet = "{}[],:\"\\/ \t\n0123456789-+.eEtrufalsn\x01\x7F\xC3\xA9\xE2\x82\xAC\xED\xA0\xF0\x9F";
  std::mt19937 rng(2024);
  int disagreements = 0, valid = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string text = kSeeds[rng() % kSeeds.size()];
    const int edits = 1 + rng() % 3;
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t pos = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: text.insert(text.begin() + pos, c); break;
        case 1: text.erase(pos, 1); break;
        default: text[pos] = c; break;
      }
    }
    const Reference ref = reference(text);
    if (ref == Reference::kSkip) continue;
    valid += ref == Reference::kValid;
    if (accepts(*program, text) != (ref == Reference::kValid)) {
      if (++disagreements <= 10) ADD_FAILURE() << "disagrees with nlohmann on: " << text;
    }
  }
  EXPECT_EQ(disagreements, 0);
  EXPECT_GT(valid, 1000);  // the edits must exercise both verdicts
}

// Every prefix the recogniser accepts can be completed, and the completion is valid JSON.
TEST(JsonConstraint, EveryAcceptedPrefixCompletes) {
  for (bool limited : {false, true}) {
    const auto program = limited ? json_any_program(false) : json_any_program(false, unlimited());
    for (const auto& seed : kSeeds) {
      JsonConstraint c(program.get());
      for (size_t i = 0; i <= seed.size(); ++i) {
        const std::string prefix = seed.substr(0, i);
        const std::string completion = c.bytes_to_complete();
        const std::string text = prefix + completion;
        EXPECT_TRUE(accepts(*program, text)) << text;
        EXPECT_EQ(reference(text), Reference::kValid) << text;
        if (c.complete()) { EXPECT_EQ(completion, ""); }
        if (i < seed.size()) { ASSERT_TRUE(c.step(static_cast<uint8_t>(seed[i]))) << prefix; }
      }
    }
  }
}

TEST(JsonConstraint, CompletionOfSpecificStates) {
  const auto program = json_any_program(false);
  auto completion = [&](std::string_view prefix) {
    JsonConstraint c(program.get());
    EXPECT_TRUE(c.feed(prefix)) << prefix;
    return c.bytes_to_complete();
  };
  EXPECT_EQ(completion("{\"a\":[1,{\"b\":\"x"), "\"}]}");
  EXPECT_EQ(completion("[1.5e"), "0]");
  EXPECT_EQ(completion("\"\\uD83D"), "\\uDC00\"");
  EXPECT_EQ(completion("\"\xF0\x9F"), "\x80\x80\"");
  EXPECT_EQ(completion("[tr"), "ue]");
  EXPECT_EQ(completion("{\"a\""), ":0}");
  EXPECT_EQ(completion("{\"a\":1,"), "\"\":0}");
  EXPECT_EQ(completion("12"), "");
}

TEST(JsonConstraint, FormatJsonRootIsAnObject) {
  const auto program = json_any_program(/*root_object=*/true);
  EXPECT_TRUE(accepts(*program, "{\"a\": [1, {\"b\": null}]}"));
  EXPECT_TRUE(accepts(*program, "\n{}\n"));
  EXPECT_FALSE(accepts(*program, "[1]"));
  EXPECT_FALSE(accepts(*program, "\"s\""));
  EXPECT_FALSE(accepts(*program, "1"));
  JsonConstraint c(program.get());
  EXPECT_EQ(c.bytes_to_complete(), "{}");
}

TEST(JsonConstraint, LimitsBoundWhitespaceDigitsAndDepth) {
  const auto program = json_any_program(false);  // default limits
  const std::string spaces22(22, ' ');
  EXPECT_TRUE(accepts(*program, "{" + spaces22 + "}" + spaces22));
  EXPECT_FALSE(accepts(*program, "{" + spaces22 + " }"));
  EXPECT_TRUE(accepts(*program, "[\n  1,\n  2\n]"));
  EXPECT_TRUE(accepts(*program, "123456789012345"));
  EXPECT_FALSE(accepts(*program, "1234567890123456"));
  EXPECT_TRUE(accepts(*program, "0.123456789012345"));
  EXPECT_FALSE(accepts(*program, "0.1234567890123456"));
  EXPECT_TRUE(accepts(*program, "1e99"));
  EXPECT_FALSE(accepts(*program, "1e100"));
  EXPECT_TRUE(accepts(*program, std::string(32, '[') + std::string(32, ']')));
  EXPECT_FALSE(accepts(*program, std::string(33, '[') + std::string(33, ']')));
  // At the depth limit a scalar still fits, so the walk never dead-ends.
  JsonConstraint c(program.get());
  ASSERT_TRUE(c.feed(std::string(32, '[')));
  EXPECT_FALSE(JsonConstraint(c).step('['));
  EXPECT_TRUE(JsonConstraint(c).step('1'));
}

}  // namespace
}  // namespace corral::sampling
