#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>

#include "store/modelfile.h"
#include "store/modelfile_limits.h"
#include "store/parameters.h"

namespace corral::store {
namespace {

Modelfile parse_ok(const std::string& text) {
  auto r = parse_modelfile(text);
  EXPECT_TRUE(r.is_ok()) << r.error() << "\n--- in ---\n" << text;
  return r ? *r : Modelfile{};
}

std::string parse_error(const std::string& text) {
  auto r = parse_modelfile(text);
  EXPECT_FALSE(r.is_ok()) << "parsed:\n" << text;
  return r ? std::string() : r.error();
}

TEST(Modelfile, BasicInstructions) {
  Modelfile mf = parse_ok(R"(# a comment
FROM ./model.gguf
  # indented comment
from llama3
TEMPLATE {{ .Prompt }}
SYSTEM You are a pirate.
PARAMETER temperature 0.7
PARAMETER stop <|im_end|>
PARAMETER stop "User:"
PARAMETER num_ctx 4096
LICENSE MIT
LICENSE Apache-2.0
MESSAGE user Hello there
MESSAGE assistant Ahoy!
)");
  ASSERT_EQ(mf.from.size(), 2u);
  EXPECT_EQ(mf.from[0], "./model.gguf");
  EXPECT_EQ(mf.from[1], "llama3");
  EXPECT_EQ(mf.template_text.value_or("?"), "{{ .Prompt }}");
  EXPECT_EQ(mf.system.value_or("?"), "You are a pirate.");
  EXPECT_EQ(mf.parameters.dump(), R"({"num_ctx":4096,"stop":["<|im_end|>","User:"],"temperature":0.7})");
  ASSERT_EQ(mf.licenses.size(), 2u);
  EXPECT_EQ(mf.licenses[1], "Apache-2.0");
  ASSERT_EQ(mf.messages.size(), 2u);
  EXPECT_EQ(mf.messages[0].role, "user");
  EXPECT_EQ(mf.messages[0].content, "Hello there");
  EXPECT_EQ(mf.messages[1].role, "assistant");
  // Commands keep Ollama's names and the line they start on.
  ASSERT_EQ(mf.commands.size(), 12u);
  EXPECT_EQ(mf.commands[0].name, "model");
  EXPECT_EQ(mf.commands[0].line, 2);
  EXPECT_EQ(mf.commands[4].name, "temperature");
  EXPECT_EQ(mf.commands[10].args, "user: Hello there");
}

TEST(Modelfile, UnknownInstructionCutInsideACharacterIsQuotedNotFatal) {
  // Error messages show at most 40 bytes of the word; a word of 39 ASCII bytes and then "é" is
  // cut inside the character. fmt 9's "{:?}" aborted the process on such text (found by
  // fuzz/regressions/modelfile/); the message must come back as valid UTF-8 instead.
  const std::string word = std::string(39, 'A') + "\xc3\xa9tail";
  for (const std::string& text : {"FROM x\n" + word + " value\n", word + "\n", "FROM x\nPARAMETER " + word + " 1\n"}) {
    auto mf = parse_modelfile(text);
    ASSERT_FALSE(mf.is_ok()) << text;
    const std::string e = mf.error();
    EXPECT_EQ(e.find("\xc3\n"), std::string::npos) << e;
    for (size_t i = 0; i < e.size(); ++i) {
      if (static_cast<unsigned char>(e[i]) == 0xc3) {
        ASSERT_LT(i + 1, e.size()) << e;  // never a lead byte without its continuation
        EXPECT_EQ(static_cast<unsigned char>(e[i + 1]) & 0xC0, 0x80) << e;
      }
    }
  }
}

TEST(Modelfile, InstructionsAreCaseInsensitive) {
  Modelfile mf = parse_ok("fRoM base\nSystem hi\nparameter top_k 5\nMessage system be brief\n");
  EXPECT_EQ(mf.from[0], "base");
  EXPECT_EQ(mf.system.value_or(""), "hi");
  EXPECT_EQ(mf.parameters["top_k"], 5);
  EXPECT_EQ(mf.messages[0].role, "system");
}

TEST(Modelfile, MultiLineValues) {
  Modelfile mf = parse_ok(
      "FROM m\n"
      "TEMPLATE \"\"\"{{ if .System }}<|system|>\n"
      "{{ .System }}{{ end }}\n"
      "  indented \"quoted\" text\n"
      "\"\"\"\n"
      "SYSTEM \"\"\"\n"
      "Line one\n"
      "Line two\"\"\"\n"
      "LICENSE \"one\n"
      "two\"\n"
      "PARAMETER stop \"  spaced  \"\n");
  EXPECT_EQ(*mf.template_text, "{{ if .System }}<|system|>\n{{ .System }}{{ end }}\n  indented \"quoted\" text\n");
  EXPECT_EQ(*mf.system, "\nLine one\nLine two");
  EXPECT_EQ(mf.licenses[0], "one\ntwo");
  EXPECT_EQ(mf.parameters["stop"][0], "  spaced  ");
}

TEST(Modelfile, ValueDetails) {
  // Trailing blanks are trimmed, inner ones kept, '#' inside a value is text, CRLF works,
  // tabs stay, other control characters are dropped, a BOM is skipped.
  Modelfile mf = parse_ok(
      "\xEF\xBB\xBF"
      "FROM   my model.gguf   \r\nSYSTEM a # b\tc\x01\r\n");
  EXPECT_EQ(mf.from[0], "my model.gguf");
  EXPECT_EQ(*mf.system, "a # b\tc");
  // An empty value is allowed (Ollama reads it as empty).
  mf = parse_ok("FROM m\nSYSTEM \n");
  EXPECT_EQ(mf.system.value_or("?"), "");
  // Last TEMPLATE / SYSTEM wins.
  mf = parse_ok("FROM m\nSYSTEM a\nSYSTEM b\n");
  EXPECT_EQ(*mf.system, "b");
  // No trailing newline.
  mf = parse_ok("FROM m");
  EXPECT_EQ(mf.from[0], "m");
}

TEST(Modelfile, EveryParameterType) {
  Modelfile mf = parse_ok(
      "FROM m\n"
      "PARAMETER num_ctx 8192\n"
      "PARAMETER seed -42\n"
      "PARAMETER num_predict +128\n"
      "PARAMETER top_p .95\n"
      "PARAMETER min_p 5e-2\n"
      "PARAMETER repeat_penalty 1.\n"
      "PARAMETER use_mmap false\n"
      "PARAMETER penalize_newline T\n"
      "PARAMETER mirostat 2\n"
      "PARAMETER mirostat_tau 5.0\n"
      "PARAMETER num_parallel 4\n"
      "PARAMETER stop a\n"
      "PARAMETER stop b\n");
  const nlohmann::json& p = mf.parameters;
  EXPECT_TRUE(p["num_ctx"].is_number_integer());
  EXPECT_EQ(p["num_ctx"], 8192);
  EXPECT_EQ(p["seed"], -42);
  EXPECT_EQ(p["num_predict"], 128);
  EXPECT_TRUE(p["top_p"].is_number_float());
  EXPECT_DOUBLE_EQ(p["top_p"].get<double>(), 0.95);
  EXPECT_DOUBLE_EQ(p["min_p"].get<double>(), 0.05);
  EXPECT_DOUBLE_EQ(p["repeat_penalty"].get<double>(), 1.0);
  EXPECT_EQ(p["use_mmap"], false);
  EXPECT_EQ(p["penalize_newline"], true);
  EXPECT_EQ(p["mirostat"], 2);
  EXPECT_EQ(p["num_parallel"], 4);
  EXPECT_EQ(p["stop"], nlohmann::json::array({"a", "b"}));
  for (std::string_view name : {"num_batch", "num_gpu", "main_gpu", "num_thread", "num_keep", "top_k", "repeat_last_n",
                                "typical_p", "temperature", "presence_penalty", "frequency_penalty", "mirostat_eta",
                                "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mlock"}) {
    EXPECT_NE(find_parameter(name), nullptr) << name;
  }
}

TEST(Modelfile, ParameterTypeErrorsUseOllamaTexts) {
  EXPECT_EQ(parse_error("FROM m\nPARAMETER num_ctx 4k\n"), "line 2: PARAMETER num_ctx: invalid int value [4k]");
  EXPECT_EQ(parse_error("FROM m\nPARAMETER num_ctx 1.5\n"), "line 2: PARAMETER num_ctx: invalid int value [1.5]");
  EXPECT_EQ(parse_error("FROM m\n\nPARAMETER temperature warm\n"),
            "line 3: PARAMETER temperature: invalid float value [warm]");
  EXPECT_EQ(parse_error("FROM m\nPARAMETER temperature 1e39\n"),
            "line 2: PARAMETER temperature: invalid float value [1e39]");
  EXPECT_EQ(parse_error("FROM m\nPARAMETER temperature nan\n"),
            "line 2: PARAMETER temperature: invalid float value [nan]");
  EXPECT_EQ(parse_error("FROM m\nPARAMETER use_mmap yes\n"), "line 2: PARAMETER use_mmap: invalid bool value [yes]");
  EXPECT_EQ(parse_error("FROM m\nPARAMETER seed 99999999999999999999\n"),
            "line 2: PARAMETER seed: invalid int value [99999999999999999999]");
  EXPECT_EQ(parse_error("FROM m\nPARAMETER tempurature 1\n"), "line 2: unknown parameter 'tempurature'");
  // Parameter names are case-sensitive, as in Ollama.
  EXPECT_EQ(parse_error("FROM m\nPARAMETER Temperature 1\n"), "line 2: unknown parameter 'Temperature'");
}

TEST(Modelfile, SyntaxErrorsNameTheLine) {
  EXPECT_EQ(parse_error("FROM m\n\nFORM x\n"), "line 3: unknown instruction \"FORM\"");
  EXPECT_EQ(parse_error("FROM m\nADAPTER ./lora.gguf\n"), "line 2: ADAPTER is not supported yet");
  EXPECT_EQ(parse_error("FROM m\nadapter x\n"), "line 2: ADAPTER is not supported yet");
  EXPECT_EQ(parse_error("FROM m\nDRAFT x\n"), "line 2: DRAFT is not supported yet");
  EXPECT_EQ(parse_error("FROM m\nMESSAGE robot hi\n"),
            "line 2: message role must be one of \"system\", \"user\", or \"assistant\"");
  EXPECT_EQ(parse_error("FROM m\nMESSAGE User hi\n"),
            "line 2: message role must be one of \"system\", \"user\", or \"assistant\"");
  EXPECT_EQ(parse_error("FROM m\nMESSAGE user\n"), "line 2: MESSAGE needs a role and content");
  EXPECT_EQ(parse_error("FROM\n"), "line 1: FROM needs a value");
  EXPECT_EQ(parse_error("FROM m\nSYSTEM"), "line 2: SYSTEM needs a value");
  EXPECT_EQ(parse_error("FROM m\nPARAMETER num-ctx 4\n"), "line 2: invalid parameter name \"num-ctx\"");
  EXPECT_EQ(parse_error("FROM m\nPARAMETER num_ctx\n"), "line 2: PARAMETER num_ctx needs a value");
  EXPECT_EQ(parse_error("FROM m\nFROM-x y\n"), "line 2: unknown instruction \"FROM-x\"");
  EXPECT_EQ(parse_error("FROM m\nTEMPLATE \"\"\"never\nclosed\n"),
            "line 2: a quoted value is never closed (unexpected end of file)");
  EXPECT_EQ(parse_error("FROM m\r\n\r\nBOGUS x\r\n"), "line 3: unknown instruction \"BOGUS\"");
  EXPECT_EQ(parse_error("# only a comment\n"), "no FROM line");
  EXPECT_EQ(parse_error("SYSTEM hi\n"), "no FROM line");
  EXPECT_EQ(parse_error("FROM m\nREQUIRES banana\n"), "line 2: requires must be a valid semver (e.g. 0.14.0)");
}

TEST(Modelfile, RendererParserRequires) {
  Modelfile mf = parse_ok("FROM m\nRENDERER qwen3\nPARSER qwen3\nREQUIRES 0.12.1\n");
  EXPECT_EQ(mf.renderer, "qwen3");
  EXPECT_EQ(mf.parser, "qwen3");
  EXPECT_EQ(mf.requires_version, "0.12.1");
  EXPECT_EQ(parse_ok("FROM m\nREQUIRES v1.2.3-rc.1+build\n").requires_version, "1.2.3-rc.1+build");
}

TEST(Modelfile, HostileInputIsAnErrorOrText) {
  std::string big(1 << 20, 'x');
  Modelfile mf = parse_ok("FROM m\nSYSTEM " + big + "\n");
  EXPECT_EQ(mf.system->size(), big.size());
  std::string nul("FROM m\nSYSTEM a\0b\n", 18);
  EXPECT_EQ(*parse_ok(nul).system, "ab");
  parse_error(
      std::string("\xFF\xFE"
                  "F\0R\0",
                  6));
  parse_error("FROM m\n\x01\x02\x03\n");
}

TEST(Modelfile, EverySizeIsBounded) {
  // The whole text, one line, the number of lines, instructions, messages and FROMs.
  EXPECT_EQ(parse_error("FROM m\n" + std::string(kMaxModelfileBytes, '#')).rfind("the Modelfile is ", 0), 0u);
  EXPECT_EQ(parse_error("FROM m\nSYSTEM " + std::string(kMaxModelfileLineBytes, 'x') + "\n"),
            fmt::format("line 2: the line is longer than {} bytes", kMaxModelfileLineBytes));
  EXPECT_EQ(parse_error("FROM m\n" + std::string(kMaxModelfileLines, '\n')),
            fmt::format("the Modelfile has more than {} lines", kMaxModelfileLines));
  std::string many = "FROM m\n";
  for (size_t i = 0; i <= kMaxModelfileCommands; ++i) many += "LICENSE x\n";
  EXPECT_EQ(parse_error(many),
            fmt::format("line {}: more than {} instructions", kMaxModelfileCommands + 1, kMaxModelfileCommands));
  std::string msgs = "FROM m\n";
  for (size_t i = 0; i <= kMaxModelfileMessages; ++i) msgs += "MESSAGE user hi\n";
  EXPECT_EQ(parse_error(msgs),
            fmt::format("line {}: more than {} messages", kMaxModelfileMessages + 2, kMaxModelfileMessages));
  std::string froms;
  for (size_t i = 0; i <= kMaxModelfileFroms; ++i) froms += "FROM m\n";
  EXPECT_EQ(parse_error(froms),
            fmt::format("line {}: more than {} FROM lines", kMaxModelfileFroms + 1, kMaxModelfileFroms));
  // A long unknown word is quoted cut short, so the error stays one short line.
  EXPECT_EQ(parse_error("FROM m\n" + std::string(100000, 'Q') + " x\n"),
            "line 2: unknown instruction \"" + std::string(40, 'Q') + "...\"");
  // Right at the bounds it parses.
  EXPECT_EQ(parse_ok("FROM m\nSYSTEM " + std::string(kMaxModelfileLineBytes - 7, 'x') + "\n").system->size(),
            kMaxModelfileLineBytes - 7);
}

TEST(Modelfile, QuoteForms) {
  EXPECT_EQ(quote_modelfile_value("plain text"), "plain text");
  EXPECT_EQ(quote_modelfile_value("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(quote_modelfile_value(" padded "), "\" padded \"");
  EXPECT_EQ(quote_modelfile_value("say \"hi\"\nnow"), "\"\"\"say \"hi\"\nnow\"\"\"");
  EXPECT_EQ(quote_modelfile_value("\"lead"), "\"\"\"\"lead\"\"\"");
  EXPECT_EQ(quote_modelfile_value("{{ .Prompt }}"), "{{ .Prompt }}");
}

TEST(Modelfile, RenderRoundTripsThroughTheParser) {
  ModelfileSource src;
  src.display_name = "pirate:latest";
  src.model_path = "/models/blobs/sha256-" + std::string(64, 'a');
  src.template_text = "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}\n{{ end }}<|assistant|>\n";
  src.system = " You are \"Captain\".\nSpeak like a pirate. ";
  src.parameters = {{"temperature", 0.7},
                    {"num_ctx", 1000000},
                    {"stop", {"<|end|>", "\"User:"}},
                    {"use_mmap", true},
                    {"top_p", 1e-05}};
  src.licenses = {"MIT License\n\nCopyright...", "second"};
  src.messages = {{"user", "Hi"}, {"assistant", "Arr\nmatey"}};
  std::string text = render_modelfile(src);
  EXPECT_EQ(text.rfind("# Modelfile generated by \"ollama show\"\n"
                       "# To build a new Modelfile based on this, replace FROM with:\n"
                       "# FROM pirate:latest\n\nFROM /models/blobs/sha256-",
                       0),
            0u)
      << text;
  EXPECT_NE(text.find("\nPARAMETER num_ctx 1000000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nPARAMETER top_p 1e-05\n"), std::string::npos) << text;

  Modelfile mf = parse_ok(text);
  ASSERT_EQ(mf.from.size(), 1u);
  EXPECT_EQ(mf.from[0], src.model_path);
  EXPECT_EQ(*mf.template_text, *src.template_text);
  EXPECT_EQ(*mf.system, src.system);
  EXPECT_EQ(mf.parameters, src.parameters);
  EXPECT_EQ(mf.licenses, src.licenses);
  ASSERT_EQ(mf.messages.size(), 2u);
  EXPECT_EQ(mf.messages[1].content, "Arr\nmatey");

  // Without a template layer Ollama shows its default template.
  src.template_text.reset();
  EXPECT_NE(render_modelfile(src).find("\nTEMPLATE {{ .Prompt }}\n"), std::string::npos);
}

// Random token soups: every input is either a Modelfile or an error, never a crash, and a
// parsed one renders to text that parses again.
TEST(Modelfile, RandomInputsNeverCrash) {
  const std::vector<std::string> tokens = {"FROM",
                                           "from",
                                           " ",
                                           "  ",
                                           "\t",
                                           "\n",
                                           "\r\n",
                                           "\r",
                                           "\"",
                                           "\"\"\"",
                                           "#",
                                           "PARAMETER",
                                           "stop",
                                           "temperature",
                                           "num_ctx",
                                           "1",
                                           "0.5",
                                           "-",
                                           "_",
                                           "MESSAGE",
                                           "user",
                                           "system",
                                           "TEMPLATE",
                                           "SYSTEM",
                                           "LICENSE",
                                           "x",
                                           "{{",
                                           "}}",
                                           std::string("\0", 1),
                                           "\x01",
                                           "\xff",
                                           "REQUIRES",
                                           "v1.2.3"};
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = i % 2 ? "FROM m\n" : "";
    int n = static_cast<int>(next() % 40);
    for (int k = 0; k < n; ++k) text += tokens[next() % tokens.size()];
    auto r = parse_modelfile(text);
    if (!r) continue;
    ++parsed;
    ModelfileSource src;
    src.display_name = "m:latest";
    src.model_path = r->from[0];
    src.template_text = r->template_text;
    src.system = r->system.value_or("");
    src.parameters = r->parameters;
    src.licenses = r->licenses;
    src.messages = r->messages;
    std::string rendered = render_modelfile(src);
    (void)parse_modelfile(rendered);  // may fail for unrepresentable values, must not crash
  }
  EXPECT_GT(parsed, 20);  // the soup is mostly invalid; enough valid ones exercise rendering
}

}  // namespace
}  // namespace corral::store
