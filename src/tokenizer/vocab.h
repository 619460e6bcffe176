// A tokenizer vocabulary read from GGUF metadata (`tokenizer.ggml.*`): token strings, scores,
// types, BPE merges, special ids and flags, with llama.cpp b4748's defaults and heuristics
// (which tokens end generation, which count as special, strip rules). Immutable once loaded,
// so one Vocab is shared by every thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "tokenizer/pretokenizer.h"

namespace corral {

enum class VocabType {
  kSpm,  // tokenizer.ggml.model = "llama": SentencePiece-style, score-driven merges
  kBpe,  // tokenizer.ggml.model = "gpt2": byte-level BPE, rank-driven merges
  kWpm,  // tokenizer.ggml.model = "bert": WordPiece, greedy longest match (llama.cpp's
         // convention: word-initial pieces start with U+2581, continuations are unprefixed)
};

// Token type ids as stored in tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Token attributes (a bitmask: a token can be control and rstrip at once).
namespace token_attr {
inline constexpr uint32_t kUndefined = 0;
inline constexpr uint32_t kUnknown = 1u << 0;
inline constexpr uint32_t kUnused = 1u << 1;
inline constexpr uint32_t kNormal = 1u << 2;
inline constexpr uint32_t kControl = 1u << 3;
inline constexpr uint32_t kUserDefined = 1u << 4;
inline constexpr uint32_t kByte = 1u << 5;
inline constexpr uint32_t kLstrip = 1u << 7;  // eat whitespace before it when parsed from text
inline constexpr uint32_t kRstrip = 1u << 8;  // eat whitespace after it when parsed from text
}  // namespace token_attr

inline constexpr int32_t kNoToken = -1;

// Sanity limits on untrusted metadata (the largest real vocabularies have ~260K tokens).
inline constexpr size_t kMaxVocabTokens = size_t{1} << 22;
inline constexpr size_t kMaxMerges = size_t{1} << 23;
inline constexpr size_t kMaxTokenBytes = size_t{1} << 16;

class Vocab {
 public:
  static Result<std::shared_ptr<const Vocab>> from_gguf(const gguf::GgufFile& file);

  VocabType type() const { return type_; }
  PreType pre_type() const { return pre_type_; }
  const std::string& pre_name() const { return pre_name_; }  // tokenizer.ggml.pre as stored
  int32_t n_tokens() const { return static_cast<int32_t>(text_.size()); }
  bool valid_id(int32_t id) const { return id >= 0 && id < n_tokens(); }

  // Per token (id must be valid).
  const std::string& text(int32_t id) const { return text_[id]; }  // as stored in the GGUF
  float score(int32_t id) const { return scores_[id]; }
  uint32_t attr(int32_t id) const { return attrs_[id]; }
  bool is_control(int32_t id) const { return attrs_[id] & token_attr::kControl; }
  bool is_byte(int32_t id) const { return attrs_[id] & token_attr::kByte; }
  bool is_user_defined(int32_t id) const { return attrs_[id] & token_attr::kUserDefined; }
  bool is_unknown(int32_t id) const { return attrs_[id] & token_attr::kUnknown; }
  bool is_unused(int32_t id) const { return attrs_[id] & token_attr::kUnused; }
  // End of generation: eos, eot, eom and tokens such as <|eot_id|>, <|im_end|>, <|end|>.
  bool is_eog(int32_t id) const { return valid_id(id) && eog_[id]; }
  const std::vector<int32_t>& eog_ids() const { return eog_list_; }

  // Exact-text lookup; kNoToken if absent.
  int32_t find(std::string_view text) const;
  // Rank of the merge (left, right), lower merges first; -1 if there is none. `scratch` is a
  // caller-owned buffer so the lookup allocates nothing.
  int32_t merge_rank(std::string_view left, std::string_view right, std::string& scratch) const;
  // SPM byte fallback: the <0xXX> token for byte b (else a token whose text is that byte);
  // kNoToken if the vocabulary has neither.
  int32_t byte_token(uint8_t b) const { return byte_tokens_[b]; }
  // The distinct byte lengths of the token texts, longest first (WordPiece's longest match).
  const std::vector<size_t>& piece_lengths() const { return piece_lengths_; }

  // Special ids (kNoToken when absent).
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  int32_t eot() const { return eot_; }
  int32_t eom() const { return eom_; }
  int32_t unk() const { return unk_; }
  int32_t pad() const { return pad_; }
  int32_t sep() const { return sep_; }

  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }  // SPM's leading "▁"
  bool clean_spaces() const { return clean_spaces_; }
  bool ignore_merges() const { return ignore_merges_; }

  // Tokens that can be recognised inside text (control, user-defined, unknown), longest text
  // first: the order in which special-token partitioning tries them.
  const std::vector<int32_t>& special_tokens() const { return special_tokens_; }

 private:
  Vocab() = default;
  Status load(const gguf::GgufFile& file);
  Status load_tokens(const gguf::GgufFile& file);
  Status load_merges(const gguf::GgufFile& file);
  Status load_special_ids(const gguf::GgufFile& file);
  // What the GGUF does not record, recognised as llama.cpp does, in these steps:
  void apply_heuristics(const gguf::GgufFile& file);
  void detect_roles();                                // EOT, EOM and FIM ids from well-known texts
  void mark_unused();                                 // "unused..." control tokens
  void build_eog_set();                               // eog_ (harmony's <|end|> handled after)
  void retype_harmony();                              // harmony's structural tokens show as text
  void collect_special_tokens();                      // special_tokens_, longest first
  void apply_name_rules(const gguf::GgufFile& file);  // per-model strip rules keyed on the name

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using StringMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

  VocabType type_ = VocabType::kSpm;
  PreType pre_type_ = PreType::kDefault;
  std::string pre_name_;
  std::vector<std::string> text_;  // [n_tokens]
  std::vector<float> scores_;      // [n_tokens]
  std::vector<uint32_t> attrs_;    // [n_tokens] token_attr bits
  StringMap token_to_id_;
  StringMap merge_ranks_;  // key: "left right"
  int32_t byte_tokens_[256] = {};
  std::vector<size_t> piece_lengths_;
  std::vector<bool> eog_;  // [n_tokens]
  std::vector<int32_t> eog_list_;
  std::vector<int32_t> special_tokens_;

  int32_t bos_ = kNoToken, eos_ = kNoToken, eot_ = kNoToken, eom_ = kNoToken;
  int32_t unk_ = kNoToken, pad_ = kNoToken, sep_ = kNoToken, mask_ = kNoToken;
  int32_t fim_pre_ = kNoToken, fim_suf_ = kNoToken, fim_mid_ = kNoToken;
  int32_t fim_pad_ = kNoToken, fim_rep_ = kNoToken, fim_sep_ = kNoToken;

  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
  bool clean_spaces_ = false;
  bool ignore_merges_ = false;
};

}  // namespace corral
