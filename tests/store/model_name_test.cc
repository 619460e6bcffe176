#include <gtest/gtest.h>

#include <string>

#include "store/model_name.h"

namespace corral::store {
namespace {

struct ValidCase {
  const char* in;
  const char* host;
  const char* ns;
  const char* model;
  const char* tag;
  const char* display;
};

TEST(ModelName, ParsesAndFillsDefaults) {
  const ValidCase cases[] = {
      {"llama3", "registry.ollama.ai", "library", "llama3", "latest", "llama3:latest"},
      {"llama3:8b", "registry.ollama.ai", "library", "llama3", "8b", "llama3:8b"},
      {"llama3.2:3b-instruct-q4_K_M", "registry.ollama.ai", "library", "llama3.2", "3b-instruct-q4_K_M",
       "llama3.2:3b-instruct-q4_K_M"},
      {"jmorgan/mistral:7b", "registry.ollama.ai", "jmorgan", "mistral", "7b", "jmorgan/mistral:7b"},
      {"example.com/ns/model:tag", "example.com", "ns", "model", "tag", "example.com/ns/model:tag"},
      {"host:5000/ns/model", "host:5000", "ns", "model", "latest", "host:5000/ns/model:latest"},
      {"https://host.example/ns/m:t", "host.example", "ns", "m", "t", "host.example/ns/m:t"},
      {"registry.ollama.ai/library/m:t", "registry.ollama.ai", "library", "m", "t", "m:t"},
      // The defaults compare case-insensitively for display, as in Ollama's DisplayShortest.
      {"Registry.Ollama.AI/Library/M:T", "Registry.Ollama.AI", "Library", "M", "T", "M:T"},
      {"registry.ollama.ai/other/m:t", "registry.ollama.ai", "other", "m", "t", "other/m:t"},
      {"h/library/m:t", "h", "library", "m", "t", "h/library/m:t"},
      {"_why/_the/_lucky:_stiff", "_why", "_the", "_lucky", "_stiff", "_why/_the/_lucky:_stiff"},
      {"a..b", "registry.ollama.ai", "library", "a..b", "latest", "a..b:latest"},
  };
  for (const ValidCase& c : cases) {
    auto n = ModelName::parse(c.in);
    ASSERT_TRUE(n.is_ok()) << c.in << ": " << n.error();
    EXPECT_EQ(n->host, c.host) << c.in;
    EXPECT_EQ(n->ns, c.ns) << c.in;
    EXPECT_EQ(n->model, c.model) << c.in;
    EXPECT_EQ(n->tag, c.tag) << c.in;
    EXPECT_EQ(n->display(), c.display) << c.in;
  }
}

TEST(ModelName, RejectsInvalidNames) {
  const std::string p81(81, 'a');
  const std::string host351(351, 'h');
  const std::string invalid[] = {
      "",
      ":",
      "model:",
      ":tag",
      "/model",
      "ns/",
      "//",
      "//mm",
      "hh//",
      "model:tag:extra",  // the model part would hold a ':'
      "host/name:space/model:tag",
      "a/b/c/d",           // the host part would hold a '/'
      "../../etc/passwd",  // host "../.." starts with '.'
      "h/../m",            // namespace ".." has dots
      "h/ns/..",           // model ".." starts with '.'
      "h/ns/m:..",         // tag ".." starts with '.'
      "./m",
      ".hidden",
      "-dash",
      "ns/-m",
      "m:-t",
      "name with space",
      "mödel",          // non-ASCII
      "m@sha256:aaaa",  // no digest suffix
      std::string("m\0x", 3),
      "m/",
      "/etc/passwd",
      "m:t/x",
      "h/ns.x/m",             // no dots in namespaces
      p81,                    // model longer than 80
      "m:" + p81,             // tag longer than 80
      p81 + "/m",             // namespace longer than 80
      host351 + "/ns/m",      // host longer than 350
      std::string(300, 'x'),  // a 300-character model name
  };
  for (const std::string& s : invalid) {
    auto n = ModelName::parse(s);
    EXPECT_FALSE(n.is_ok()) << "accepted " << s << " as " << (n ? n->full() : "");
    if (!n) { EXPECT_NE(n.error().find("invalid model name"), std::string::npos) << n.error(); }
  }
}

TEST(ModelName, LongPartsWithinLimitsAreValid) {
  std::string p80(80, '8'), p350(350, '3');
  auto n = ModelName::parse(p350 + "/" + p80 + "/" + p80 + ":" + p80);
  ASSERT_TRUE(n.is_ok()) << n.error();
  EXPECT_EQ(n->host, p350);
  EXPECT_EQ(n->tag, p80);
}

TEST(ModelName, ErrorNamesThePart) {
  auto n = ModelName::parse("h/ns/m:bad tag");
  ASSERT_FALSE(n.is_ok());
  EXPECT_NE(n.error().find("tag"), std::string::npos) << n.error();
  n = ModelName::parse(std::string(90, 'm'));
  ASSERT_FALSE(n.is_ok());
  EXPECT_NE(n.error().find("90 bytes"), std::string::npos) << n.error();
}

// The error quotes at most 100 bytes of the name. Cut there in the middle of a character, that
// text is not valid UTF-8, and fmt 9's "{:?}" (used before) aborts the process on it: one
// request naming such a model killed the server. Now the stray byte is written as \xHH.
TEST(ModelName, ErrorOnNameCutInsideACharacterDoesNotAbort) {
  const std::string name = std::string(99, 'a') + "\xc3\xa9";  // "é" straddles byte 100
  auto n = ModelName::parse(name);
  ASSERT_FALSE(n.is_ok());
  EXPECT_NE(n.error().find(std::string(99, 'a') + "\\xc3\""), std::string::npos) << n.error();
  auto raw = ModelName::parse("m\xff");  // invalid UTF-8 straight from a URL path
  ASSERT_FALSE(raw.is_ok());
  EXPECT_NE(raw.error().find("\"m\\xff\""), std::string::npos) << raw.error();
}

TEST(ModelName, PathsStayInsideTheStore) {
  auto n = ModelName::parse("host:8080/ns/m.v2:q4_K_M");
  ASSERT_TRUE(n.is_ok()) << n.error();
  EXPECT_EQ(n->relative_path(), "host:8080/ns/m.v2/q4_K_M");
  EXPECT_EQ(n->full(), "host:8080/ns/m.v2:q4_K_M");
  // Every valid part starts with [A-Za-z0-9_] and has no '/', so no part is "." or "..".
  for (NamePart p : {NamePart::kHost, NamePart::kNamespace, NamePart::kModel, NamePart::kTag}) {
    EXPECT_FALSE(is_valid_name_part(p, ".."));
    EXPECT_FALSE(is_valid_name_part(p, "."));
    EXPECT_FALSE(is_valid_name_part(p, "a/b"));
    EXPECT_FALSE(is_valid_name_part(p, ""));
  }
  EXPECT_TRUE(is_valid_name_part(NamePart::kHost, "a:123"));
  EXPECT_FALSE(is_valid_name_part(NamePart::kModel, "a:123"));
  EXPECT_FALSE(is_valid_name_part(NamePart::kNamespace, "a."));
}

TEST(ModelName, EqualFoldIgnoresAsciiCaseOnly) {
  auto a = ModelName::parse("Mistral:Latest");
  auto b = ModelName::parse("mistral");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->equal_fold(*b));
  EXPECT_FALSE(*a == *b);
  EXPECT_FALSE(equal_fold("abc", "abd"));
  EXPECT_TRUE(equal_fold("ABC_1", "abc_1"));
}

}  // namespace
}  // namespace corral::store
