// Byte-level BPE pre-tokenizers: the regex sets that cut text into words before merging,
// selected by `tokenizer.ggml.pre`. Each set is a list of patterns applied in turn; every
// pattern splits each current word into its matches and the gaps between them (llama.cpp's
// unicode_regex_split), so later patterns refine the cuts of earlier ones.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace corral {

enum class PreType {
  kDefault,
  kLlama3,
  kDeepseekLlm,
  kDeepseekCoder,
  kDeepseek3Llm,
  kFalcon,
  kMpt,
  kStarcoder,
  kGpt2,
  kRefact,
  kCommandR,
  kStablelm2,
  kQwen2,
  kOlmo,
  kDbrx,
  kSmaug,
  kPoro,
  kChatglm4,
  kViking,
  kJais,
  kTekken,
  kSmollm,
  kCodeshell,
  kBloom,
  kGpt3Finnish,
  kExaone,
  kChameleon,
  kMinerva,
  kGpt4o,
};

// What a `tokenizer.ggml.pre` name selects, with the per-type defaults llama.cpp b4748 applies
// when loading a BPE vocabulary.
struct PreTypeInfo {
  PreType type = PreType::kDefault;
  bool clean_spaces = true;    // detokenizer removes " ," " 's" ... (HF clean_up_tokenization)
  bool ignore_merges = false;  // a word that is itself a token skips merging (Llama 3, Tekken)
  bool add_bos = false;        // default for tokenizer.ggml.add_bos_token
  bool no_bos = false;         // the type has no BOS token at all (ChatGLM)
};

// nullopt for a name llama.cpp does not know. An empty name means "default".
std::optional<PreTypeInfo> lookup_pre_type(std::string_view name);

namespace tokenizer_detail {

class PreTokenizer {
 public:
  // Compiles the pattern set of `type` (JIT where PCRE2 has it).
  static Result<std::unique_ptr<const PreTokenizer>> create(PreType type);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Splits `text`, which must be valid UTF-8, into words (views into text), in order; their
  // concatenation is text. Thread-safe: match state lives on the caller's stack.
  void split(std::string_view text, std::vector<std::string_view>& words) const;

 private:
  PreTokenizer() = default;
  struct Pattern;
  std::vector<Pattern> patterns_;
};

}  // namespace tokenizer_detail
}  // namespace corral
