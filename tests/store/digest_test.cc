#include <gtest/gtest.h>

#include <string>

#include "store/digest.h"
#include "store/gguf_info.h"
#include "store/json_util.h"

namespace corral::store {
namespace {

const std::string kHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Digest, ParsesBothSpellings) {
  auto a = Digest::parse("sha256:" + kHex);
  auto b = Digest::parse("sha256-" + kHex);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->hex(), kHex);
  EXPECT_EQ(a->str(), "sha256:" + kHex);
  EXPECT_EQ(a->file_name(), "sha256-" + kHex);
}

TEST(Digest, RejectsEverythingElse) {
  std::string upper = kHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string bad[] = {
      "",
      "sha256:",
      "sha256:" + kHex.substr(1),  // 63 digits
      "sha256:" + kHex + "0",      // 65 digits
      "sha256:" + upper,           // uppercase hex
      "sha512:" + kHex,
      "sha256_" + kHex,
      kHex,
      "sha256:../../../../etc/passwd",
      "sha256:" + kHex.substr(0, 60) + "/../",
      "sha256-" + kHex.substr(0, 63) + "g",
      std::string("sha256:") + std::string(63, 'a') + std::string(1, '\0'),
      " sha256:" + kHex,
  };
  for (const std::string& s : bad) {
    auto d = Digest::parse(s);
    EXPECT_FALSE(d.is_ok()) << s;
    if (!d) { EXPECT_NE(d.error().find("invalid digest format"), std::string::npos); }
  }
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256::of("").hex(), kHex);
  EXPECT_EQ(Sha256::of("abc").hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;  // incremental == one shot
  h.update("a", 1);
  h.update("bc", 2);
  EXPECT_EQ(h.finish().hex(), Sha256::of("abc").hex());
}

TEST(GoJson, MatchesGoEncoder) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["stop"] = {"<|im_end|>", "a&b"};
  j["temperature"] = float32_as_json_double(0.7f);
  j["top_p"] = 1.0;
  j["num_ctx"] = 4096;
  j["tiny"] = 1e-7;
  j["huge"] = 1e21;
  j["text"] = "line\nbreak \"q\" \x01 \xe2\x80\xa8 \xff";
  EXPECT_EQ(go_json_encode(j),
            "{\"stop\":[\"\\u003c|im_end|\\u003e\",\"a\\u0026b\"],\"temperature\":0.7,"
            "\"top_p\":1,\"num_ctx\":4096,\"tiny\":1e-7,\"huge\":1e+21,"
            "\"text\":\"line\\nbreak \\\"q\\\" \\u0001 \\u2028 \\ufffd\"}\n");
}

TEST(GoJson, FormatsFloatsLikeFmtV) {
  EXPECT_EQ(go_format_float(0.7), "0.7");
  EXPECT_EQ(go_format_float(1), "1");
  EXPECT_EQ(go_format_float(100000), "100000");
  EXPECT_EQ(go_format_float(1e6), "1e+06");
  EXPECT_EQ(go_format_float(0.0001), "0.0001");
  EXPECT_EQ(go_format_float(0.00001), "1e-05");
  EXPECT_EQ(go_format_float(-2.5), "-2.5");
  EXPECT_DOUBLE_EQ(float32_as_json_double(0.1f), 0.1);
}

TEST(GoJson, ParseNeverThrows) {
  for (const char* s : {"", "{", "[1,2", "\"\\ud800\"", "nul", "{\"a\":}", "\xff"}) {
    auto r = parse_json(s, "doc");
    EXPECT_FALSE(r.is_ok()) << s;
  }
  std::string deep(100000, '[');
  EXPECT_FALSE(parse_json(deep, "doc").is_ok());
}

TEST(GgufInfo, HumanNumberAsOllama) {
  EXPECT_EQ(human_number(0), "0");
  EXPECT_EQ(human_number(999), "999");
  EXPECT_EQ(human_number(1000), "1K");
  EXPECT_EQ(human_number(1001), "1K");
  EXPECT_EQ(human_number(260000), "260K");
  EXPECT_EQ(human_number(1000000), "1M");
  EXPECT_EQ(human_number(125000000), "125M");
  EXPECT_EQ(human_number(500500000), "500.50M");
  EXPECT_EQ(human_number(1000000000), "1B");
  EXPECT_EQ(human_number(2800000000), "2.8B");
  EXPECT_EQ(human_number(2850000000), "2.9B");
  EXPECT_EQ(human_number(8030261248), "8.0B");
  EXPECT_EQ(human_number(1000000000000), "1000B");
}

TEST(GgufInfo, FileTypeNamesAsOllama) {
  EXPECT_EQ(file_type_name(15), "Q4_K_M");
  EXPECT_EQ(file_type_name(1), "F16");
  EXPECT_EQ(file_type_name(7), "Q8_0");
  EXPECT_EQ(file_type_name(32), "BF16");
  EXPECT_EQ(file_type_name(0), "unknown");   // Ollama reads 0 as unset
  EXPECT_EQ(file_type_name(19), "unknown");  // IQ2_XXS: not named by Ollama
  EXPECT_EQ(file_type_name(-3), "unknown");
}

// Digests come from URL paths (/api/blobs/:digest), raw bytes: the error must quote them without
// fmt's "{:?}", which aborts the process on invalid UTF-8.
TEST(Digest, InvalidUtf8IsQuotedNotFatal) {
  auto d = Digest::parse("sha256:\xff\xfe");
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.error().find("\"sha256:\\xff\\xfe\""), std::string::npos) << d.error();
}

}  // namespace
}  // namespace corral::store
