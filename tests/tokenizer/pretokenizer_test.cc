// Pre-tokenizer regexes on PCRE2: every type compiles and splits losslessly, and the GPT-2 and
// Llama 3 / Qwen2 patterns cut exactly where llama.cpp's hand-written matchers for them do
// (checked against an independent scanner over random strings of tricky characters).
#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

#include <random>

#include "tokenizer/utf8.h"

namespace corral {
namespace {

using tokenizer_detail::PreTokenizer;

std::vector<std::string> split(PreType type, const std::string& text) {
  auto pre = PreTokenizer::create(type);
  EXPECT_TRUE(pre.is_ok()) << pre.error();
  std::vector<std::string_view> words;
  (*pre)->split(text, words);
  return {words.begin(), words.end()};
}

TEST(PreTokenizer, EveryKnownTypeCompilesAndIsLossless) {
  const char* names[] = {"",
                         "default",
                         "llama3",
                         "llama-bpe",
                         "falcon3",
                         "deepseek-llm",
                         "deepseek-coder",
                         "deepseek-v3",
                         "falcon",
                         "mpt",
                         "starcoder",
                         "gpt-2",
                         "phi-2",
                         "roberta-bpe",
                         "refact",
                         "command-r",
                         "qwen2",
                         "deepseek-r1-qwen",
                         "megrez",
                         "stablelm2",
                         "olmo",
                         "dbrx",
                         "smaug-bpe",
                         "poro-chat",
                         "chatglm-bpe",
                         "viking",
                         "jais",
                         "tekken",
                         "smollm",
                         "codeshell",
                         "bloom",
                         "gpt3-finnish",
                         "exaone",
                         "chameleon",
                         "minerva-7b",
                         "gpt-4o"};
  const std::string text =
      "Hello, y'all! It's 2024-07-15; 1234567 items cost $3.50.\n\n\t  indented <sentinel:12> "
      "IMGIMGABZ 日本語 テキスト 한국어 Ελληνικά ĀČ 🚀 — done   ";
  for (const char* name : names) {
    auto info = lookup_pre_type(name);
    ASSERT_TRUE(info.has_value()) << name;
    std::string joined;
    for (const auto& w : split(info->type, text)) {
      EXPECT_FALSE(w.empty()) << name;
      joined += w;
    }
    EXPECT_EQ(joined, text) << name;
  }
  EXPECT_FALSE(lookup_pre_type("not-a-pre-tokenizer").has_value());
}

TEST(PreTokenizer, Llama3Examples) {
  EXPECT_EQ(split(PreType::kLlama3, "Hello  world\n\n  x"),
            (std::vector<std::string>{"Hello", " ", " world", "\n\n", " ", " x"}));
  EXPECT_EQ(split(PreType::kLlama3, "I'VE 1234567 apples"),
            (std::vector<std::string>{"I", "'VE", " ", "123", "456", "7", " apples"}));
  EXPECT_EQ(split(PreType::kQwen2, "x=123"), (std::vector<std::string>{"x", "=", "1", "2", "3"}));
  // NBSP is whitespace for the tokenizers; U+180E (which PCRE2's own \s matches) is not.
  EXPECT_EQ(split(PreType::kLlama3, "a\u00a0\u00a0b"), (std::vector<std::string>{"a", "\u00a0", "\u00a0b"}));
  EXPECT_EQ(split(PreType::kLlama3, "a \u180e"), (std::vector<std::string>{"a", " \u180e"}));
}

// gpt-oss's o200k_harmony ("gpt-4o" in GGUF): llama.cpp's GPT4O pattern ends a word where a
// lower-case run meets an upper-case letter (an upper-case run followed by lower case stays one
// word), keeps a contraction as the word's suffix, groups up to 3 digits and lets a punctuation
// run take the newlines and slashes after it.
TEST(PreTokenizer, Gpt4oExamples) {
  EXPECT_EQ(split(PreType::kGpt4o, "HelloWorld XMLHttp"), (std::vector<std::string>{"Hello", "World", " XMLHttp"}));
  EXPECT_EQ(split(PreType::kGpt4o, "don't I'VE they'll"), (std::vector<std::string>{"don't", " I'VE", " they'll"}));
  EXPECT_EQ(split(PreType::kGpt4o, "x=1234567"), (std::vector<std::string>{"x", "=", "123", "456", "7"}));
  EXPECT_EQ(split(PreType::kGpt4o, "path:\n/usr  \n\n z"),
            (std::vector<std::string>{"path", ":\n/", "usr", "  \n\n", " z"}));
}

TEST(PreTokenizer, DeepseekDollarMeansEndOfPiece) {
  // "\s+$" only takes whitespace at the very end of a piece, not before a newline.
  EXPECT_EQ(split(PreType::kDeepseekLlm, "ab  \ncd  "), (std::vector<std::string>{"ab", "  ", "\n", "cd", "  "}));
}

// --- An independent scanner with the semantics of llama.cpp's hand-written GPT-2 and Llama 3
// matchers, over a fixed alphabet whose Unicode classes are listed by hand.

struct Char {
  const char* utf8;
  char cls;  // 'L' letter, 'N' number, 'W' whitespace, 'O' anything else
};

const std::vector<Char>& alphabet() {
  static const std::vector<Char> kChars = {
      {"a", 'L'},      {"b", 'L'},      {"Z", 'L'},  {"s", 'L'},    {"t", 'L'},      {"r", 'L'},      {"e", 'L'},
      {"v", 'L'},      {"m", 'L'},      {"l", 'L'},  {"d", 'L'},    {"S", 'L'},      {"E", 'L'},      {"L", 'L'},
      {"é", 'L'},      {"ß", 'L'},      {"日", 'L'}, {"ك", 'L'},    {"ǅ", 'L'},      {"0", 'N'},      {"7", 'N'},
      {"٣", 'N'},      {"²", 'N'},      {"Ⅻ", 'N'},  {" ", 'W'},    {" ", 'W'},      {" ", 'W'},      {"\t", 'W'},
      {"\n", 'W'},     {"\r", 'W'},     {"\v", 'W'}, {"\f", 'W'},   {"\u00a0", 'W'}, {"\u2003", 'W'}, {"\u3000", 'W'},
      {"\u0085", 'W'}, {"\u2028", 'W'}, {"'", 'O'},  {"'", 'O'},    {".", 'O'},      {",", 'O'},      {"!", 'O'},
      {"-", 'O'},      {"🚀", 'O'},      {"—", 'O'},  {"\x01", 'O'}, {"\u180e", 'O'}, {"\u0301", 'O'}, {"$", 'O'},
      {"/", 'O'}};
  return kChars;
}

// Splits a sequence of alphabet indices; returns the words as strings.
std::vector<std::string> scan(const std::vector<int>& s, bool llama3, int max_digits) {
  const auto& A = alphabet();
  const int n = static_cast<int>(s.size());
  auto cls = [&](int p) { return p < n ? A[s[p]].cls : '\0'; };  // '\0': past the end
  auto text = [&](int p) { return p < n ? std::string(A[s[p]].utf8) : std::string(); };
  auto lower = [](std::string c) { return c.size() == 1 ? std::string(1, static_cast<char>(std::tolower(c[0]))) : c; };
  std::vector<std::string> words;
  int start = 0;
  auto emit = [&](int end) {
    std::string w;
    for (int p = start; p < end; ++p) w += A[s[p]].utf8;
    if (!w.empty()) words.push_back(w);
    start = end;
  };
  for (int pos = 0; pos < n;) {
    const std::string c = text(pos);
    if (c == "'" && pos + 1 < n) {  // contractions ('s 't 'm 'd 're 've 'll)
      const std::string x1 = llama3 ? lower(text(pos + 1)) : text(pos + 1);
      if (x1 == "s" || x1 == "t" || x1 == "m" || x1 == "d") {
        emit(pos += 2);
        continue;
      }
      if (pos + 2 < n) {
        const std::string x2 = llama3 ? lower(text(pos + 2)) : text(pos + 2);
        if ((x1 == "r" && x2 == "e") || (x1 == "v" && x2 == "e") || (x1 == "l" && x2 == "l")) {
          emit(pos += 3);
          continue;
        }
      }
    }
    if (llama3) {
      // [^\r\n\p{L}\p{N}]?\p{L}+
      if (c != "\r" && c != "\n" && cls(pos) != 'N' && (cls(pos) == 'L' || cls(pos + 1) == 'L')) {
        ++pos;
        while (cls(pos) == 'L') ++pos;
        emit(pos);
        continue;
      }
      // \p{N}{1,max}
      if (cls(pos) == 'N') {
        int run = 0;
        while (cls(pos) == 'N') {
          ++pos;
          if (++run == max_digits) {
            emit(pos);
            run = 0;
          }
        }
        emit(pos);
        continue;
      }
    } else {
      const char c2 = c == " " ? cls(pos + 1) : cls(pos);
      if (c2 == 'L' || c2 == 'N') {  // " ?\p{L}+" and " ?\p{N}+"
        pos += (c == " ");
        while (cls(pos) == c2) ++pos;
        emit(pos);
        continue;
      }
    }
    // " ?[^\s\p{L}\p{N}]+" (Llama 3: followed by [\r\n]*)
    if ((c == " " ? cls(pos + 1) : cls(pos)) == 'O') {
      pos += (c == " ");
      while (cls(pos) == 'O') ++pos;
      if (llama3) {
        while (text(pos) == "\r" || text(pos) == "\n") ++pos;
      }
      emit(pos);
      continue;
    }
    int nws = 0, last_rn = -1;
    while (cls(pos + nws) == 'W') {
      if (text(pos + nws) == "\r" || text(pos + nws) == "\n") last_rn = pos + nws + 1;
      ++nws;
    }
    if (llama3 && last_rn >= 0) {
      emit(pos = last_rn);
      continue;
    }  // \s*[\r\n]+
    if (nws > 1 && pos + nws < n) {
      emit(pos += nws - 1);
      continue;
    }  // \s+(?!\S)
    if (nws > 0) {
      emit(pos += nws);
      continue;
    }  // \s+
    emit(++pos);
  }
  return words;
}

void differential(PreType type, bool llama3, int max_digits) {
  auto pre = PreTokenizer::create(type);
  ASSERT_TRUE(pre.is_ok());
  std::mt19937 rng(static_cast<unsigned>(type) * 7919u + 17u);
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<int> s(1 + rng() % 24);
    for (int& c : s) c = static_cast<int>(rng() % alphabet().size());
    std::string text;
    for (int c : s) text += alphabet()[c].utf8;
    std::vector<std::string_view> got;
    (*pre)->split(text, got);
    const std::vector<std::string> want = scan(s, llama3, max_digits);
    ASSERT_EQ(std::vector<std::string>(got.begin(), got.end()), want) << "text: '" << text << "'";
  }
}

TEST(PreTokenizer, Gpt2MatchesHandWrittenScanner) { differential(PreType::kGpt2, false, 0); }
TEST(PreTokenizer, Llama3MatchesHandWrittenScanner) { differential(PreType::kLlama3, true, 3); }
TEST(PreTokenizer, Qwen2MatchesHandWrittenScanner) { differential(PreType::kQwen2, true, 1); }

TEST(PreTokenizer, LongRunsStayLinearAndLossless) {
  // Long whitespace, letter and digit runs must neither blow the JIT stack nor backtrack
  // quadratically.
  std::string mixed_case;
  for (int i = 0; i < 20000; ++i) mixed_case += (i % 7 == 0) ? "Aé" : "bÉ";
  const std::string text = std::string(200000, ' ') + "x" + std::string(100000, '\n') + std::string(100000, 'a') +
                           std::string(100000, 'B') + mixed_case + std::string(50000, '7') + std::string(50000, '!') +
                           " \t" + std::string(30000, '\'') + "\r\n";
  for (PreType t : {PreType::kDefault, PreType::kGpt2, PreType::kLlama3, PreType::kQwen2, PreType::kDeepseekLlm,
                    PreType::kDeepseekCoder, PreType::kDeepseek3Llm, PreType::kFalcon, PreType::kStarcoder,
                    PreType::kBloom, PreType::kViking, PreType::kTekken, PreType::kChameleon, PreType::kGpt4o}) {
    std::string joined;
    for (const auto& w : split(t, text)) joined += w;
    EXPECT_EQ(joined.size(), text.size());
  }
}

}  // namespace
}  // namespace corral
