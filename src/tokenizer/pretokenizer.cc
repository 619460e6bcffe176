#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <string>

#include "base/check.h"

namespace corral {
namespace {

// The patterns below are the pre-tokenizer regexes of each model family, in the forms
// llama.cpp b4748 runs them (Hugging Face's `(?i:...)` spelled out as character classes), and
// written with ECMAScript conventions: `\s`, `\S` and `$` are rewritten for PCRE2 by
// to_pcre2() below.
//
// GPT-2's pattern. llama.cpp's list omits the final `|\s+`, but its hand-written matcher for
// this pattern implements it, so it is included here.
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt2NoTail = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 = R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|)"
                                R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2 differs from Llama 3 only in splitting numbers into single digits.
constexpr const char* kQwen2 = R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|)"
                               R"(\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek LLM's letter class (from its tokenizer.json): Latin, Greek, Cyrillic, Armenian,
// Georgian, Cherokee, ... letters, spelled as explicit ranges.
constexpr const char* kDeepseekLetters =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF})"
    R"(\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F})"
    R"(\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481})"
    R"(\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD})"
    R"(\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77})"
    R"(\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45})"
    R"(\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D})"
    R"(\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC})"
    R"(\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4})"
    R"(\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124})"
    R"(\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F})"
    R"(\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})"
    R"(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F})"
    R"(\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06})"
    R"(\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F})"
    R"(\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2})"
    R"(\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
constexpr const char* kCjk = R"([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";
// Tekken and GPT-4o: llama.cpp writes "a letter that is not a-z" as ((?=[\p{L}])([^a-z])),
// because its regex engine sees all non-ASCII letters as one collapsed symbol; [^\P{L}a-z] is
// the same set as a plain class, which PCRE2's JIT runs without a backtracking frame per
// character (the group form exhausts the JIT stack on a few hundred letters).
constexpr const char* kTekken = R"([^\r\n\p{L}\p{N}]?[^\P{L}a-z]*[^\P{L}A-Z]+|)"
                                R"([^\r\n\p{L}\p{N}]?[^\P{L}a-z]+[^\P{L}A-Z]*|\p{N}|)"
                                R"( ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4o = R"([^\r\n\p{L}\p{N}]?[^\P{L}a-z]*[^\P{L}A-Z]+)"
                               R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|)"
                               R"([^\r\n\p{L}\p{N}]?[^\P{L}a-z]+[^\P{L}A-Z]*)"
                               R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|)"
                               R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kBloom = R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)";

std::vector<const char*> patterns_for(PreType type) {
  switch (type) {
    case PreType::kLlama3:
    case PreType::kDbrx:
    case PreType::kSmaug:
    case PreType::kChatglm4: return {kLlama3};
    case PreType::kDeepseekLlm:
      return {R"([\r\n])",
              kDeepseekLetters,
              R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)",
              R"(\s+$)",
              kCjk,
              R"(\p{N}+)"};
    case PreType::kDeepseekCoder: return {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"};
    case PreType::kDeepseek3Llm:
      return {R"(\p{N}{1,3})", R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
              R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|)"
              R"([^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|)"
              R"( ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"};
    case PreType::kFalcon: return {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, R"([0-9][0-9][0-9])"};
    case PreType::kStarcoder:
    case PreType::kRefact:
    case PreType::kCommandR:
    case PreType::kSmollm:
    case PreType::kCodeshell:
    case PreType::kExaone:
    case PreType::kMinerva: return {R"(\p{N})", kGpt2};
    case PreType::kGpt2:
    case PreType::kMpt:
    case PreType::kOlmo:
    case PreType::kJais: return {kGpt2};
    case PreType::kStablelm2:
    case PreType::kQwen2: return {kQwen2};
    case PreType::kPoro:
    case PreType::kBloom:
    case PreType::kGpt3Finnish: return {kBloom};
    case PreType::kViking: return {kBloom, R"(\p{N})"};
    case PreType::kTekken: return {kTekken};
    case PreType::kChameleon:
      // Sentinel and image tokens, whitespace runs, digits, punctuation, then GPT-2 words.
      return {R"(<sentinel:[0-9]+>)",    R"((IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z)",
              R"(([\t\n]|    |  ))",     R"(\p{N})",
              R"([\p{P}!-/:-@\[-`{-~])", kGpt2NoTail};
    case PreType::kGpt4o: return {kGpt4o};
    case PreType::kDefault: break;
  }
  return {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", R"([0-9][0-9][0-9])"};
}

// Unicode White_Space, the set llama.cpp's tokenizers treat as whitespace. PCRE2's own `\s`
// differs at the edges (10.42 also matches U+180E), so it is spelled out.
constexpr const char* kWhiteSpace =
    R"(\t-\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

// Rewrites the ECMAScript-isms of the tables above into PCRE2 syntax: `\s`/`\S` become the
// explicit White_Space class (inlined when already inside a class) and `$` becomes `\z`,
// because ECMAScript's `$` (no multiline) only matches at the very end.
std::string to_pcre2(std::string_view src) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < src.size(); ++i) {
    const char c = src[i];
    if (c == '\\' && i + 1 < src.size()) {
      const char e = src[i + 1];
      ++i;
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
      } else if (e == 'S') {
        CORRAL_CHECK(!in_class, "\\S inside a character class is not supported");
        out += "[^" + std::string(kWhiteSpace) + "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
    } else if (in_class && c == ']') {
      in_class = false;
    } else if (!in_class && c == '$') {
      out += "\\z";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::optional<PreTypeInfo> lookup_pre_type(std::string_view name) {
  PreTypeInfo info;
  auto is = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) {
      if (n == name) return true;
    }
    return false;
  };
  if (is({"", "default"})) {
    info.type = PreType::kDefault;
  } else if (is({"llama3", "llama-v3", "llama-bpe", "falcon3"})) {
    info.type = PreType::kLlama3;
    info.ignore_merges = true;
    info.add_bos = true;
  } else if (is({"deepseek-llm"})) {
    info.type = PreType::kDeepseekLlm;
    info.clean_spaces = false;
  } else if (is({"deepseek-coder"})) {
    info.type = PreType::kDeepseekCoder;
    info.clean_spaces = false;
  } else if (is({"deepseek-v3"})) {
    info.type = PreType::kDeepseek3Llm;
    info.clean_spaces = false;
  } else if (is({"falcon"})) {
    info.type = PreType::kFalcon;
  } else if (is({"mpt"})) {
    info.type = PreType::kMpt;
  } else if (is({"starcoder"})) {
    info.type = PreType::kStarcoder;
  } else if (is({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
                 "jina-v2-code", "roberta-bpe"})) {
    info.type = PreType::kGpt2;
  } else if (is({"refact"})) {
    info.type = PreType::kRefact;
  } else if (is({"command-r"})) {
    info.type = PreType::kCommandR;
    info.clean_spaces = false;
  } else if (is({"qwen2", "deepseek-r1-qwen"})) {
    info.type = PreType::kQwen2;
    info.clean_spaces = false;
  } else if (is({"megrez"})) {
    info.type = PreType::kQwen2;
  } else if (is({"stablelm2"})) {
    info.type = PreType::kStablelm2;
  } else if (is({"olmo"})) {
    info.type = PreType::kOlmo;
  } else if (is({"dbrx"})) {
    info.type = PreType::kDbrx;
  } else if (is({"smaug-bpe"})) {
    info.type = PreType::kSmaug;
  } else if (is({"poro-chat"})) {
    info.type = PreType::kPoro;
    info.clean_spaces = false;
  } else if (is({"chatglm-bpe"})) {
    info.type = PreType::kChatglm4;
    info.no_bos = true;
  } else if (is({"viking"})) {
    info.type = PreType::kViking;
    info.clean_spaces = false;
  } else if (is({"jais"})) {
    info.type = PreType::kJais;
  } else if (is({"tekken"})) {
    info.type = PreType::kTekken;
    info.clean_spaces = false;
    info.ignore_merges = true;
    info.add_bos = true;
  } else if (is({"smollm"})) {
    info.type = PreType::kSmollm;
    info.clean_spaces = false;
  } else if (is({"codeshell"})) {
    info.type = PreType::kCodeshell;
  } else if (is({"bloom"})) {
    info.type = PreType::kBloom;
  } else if (is({"gpt3-finnish"})) {
    info.type = PreType::kGpt3Finnish;
  } else if (is({"exaone"})) {
    info.type = PreType::kExaone;
  } else if (is({"chameleon"})) {
    info.type = PreType::kChameleon;
    info.add_bos = true;
    info.clean_spaces = false;
  } else if (is({"minerva-7b"})) {
    info.type = PreType::kMinerva;
  } else if (is({"gpt-4o"})) {
    info.type = PreType::kGpt4o;
    info.clean_spaces = false;
  } else {
    return std::nullopt;
  }
  return info;
}

namespace tokenizer_detail {

struct PreTokenizer::Pattern {
  pcre2_code* code = nullptr;
};

PreTokenizer::~PreTokenizer() {
  for (Pattern& p : patterns_) pcre2_code_free(p.code);
}

Result<std::unique_ptr<const PreTokenizer>> PreTokenizer::create(PreType type) {
  std::unique_ptr<PreTokenizer> pre(new PreTokenizer());
  for (const char* src : patterns_for(type)) {
    const std::string pattern = to_pcre2(src);
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    // UCP makes \p{..} and the POSIX classes Unicode-aware; UTF makes `.` and ranges work on
    // code points.
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return Status::errorf("pre-tokenizer pattern '{}' at offset {}: {}", pattern, err_offset,
                            reinterpret_cast<const char*>(msg));
    }
    // JIT is an optimisation only: without it (or if it fails) the interpreter runs.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    pre->patterns_.push_back(Pattern{code});
  }
  return std::unique_ptr<const PreTokenizer>(std::move(pre));
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& words) const {
  std::vector<std::string_view> current;
  if (!text.empty()) current.push_back(text);
  std::vector<std::string_view> next;
  for (const Pattern& p : patterns_) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(p.code, nullptr);
    CORRAL_CHECK(md != nullptr, "out of memory");
    next.clear();
    for (std::string_view piece : current) {
      // Each piece is its own subject, so lookaheads and `\z` see the piece's end, as
      // llama.cpp's per-fragment std::regex_iterator does.
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t pos = 0;  // end of the last match
      size_t search = 0;
      while (search < piece.size()) {
        // No pattern here can match the empty string; NOTEMPTY just guarantees progress.
        int rc = pcre2_match(p.code, subject, piece.size(), search, PCRE2_NO_UTF_CHECK | PCRE2_NOTEMPTY, md, nullptr);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
          // The JIT's fixed stack can run out on pathological input; the interpreter keeps
          // its backtracking state on the heap.
          rc = pcre2_match(p.code, subject, piece.size(), search, PCRE2_NO_UTF_CHECK | PCRE2_NOTEMPTY | PCRE2_NO_JIT,
                           md, nullptr);
        }
        if (rc < 0) break;  // no match (or a resource limit): the rest stays one gap
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t start = ov[0], end = ov[1];
        if (start > pos) next.push_back(piece.substr(pos, start - pos));
        next.push_back(piece.substr(start, end - start));
        pos = search = end;
      }
      if (pos < piece.size()) next.push_back(piece.substr(pos));
    }
    pcre2_match_data_free(md);
    current.swap(next);
  }
  words.insert(words.end(), current.begin(), current.end());
}

}  // namespace tokenizer_detail
}  // namespace corral
