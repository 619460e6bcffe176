// The public tokenizer: text -> token ids and back, exactly as llama.cpp b4748 does for
// SentencePiece-style ("llama"), byte-level BPE ("gpt2") and WordPiece ("bert") vocabularies. Everything is read
// from the GGUF's tokenizer.ggml.* metadata. A Tokenizer is immutable; encode() and decode()
// are const and safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "tokenizer/vocab.h"

namespace corral {

namespace tokenizer_detail {
class PreTokenizer;
struct Fragment;
}  // namespace tokenizer_detail

class Tokenizer {
 public:
  static Result<std::shared_ptr<const Tokenizer>> from_gguf(const gguf::GgufFile& file);
  static Result<std::shared_ptr<const Tokenizer>> from_vocab(std::shared_ptr<const Vocab> vocab);
  ~Tokenizer();

  // add_special: prepend BOS / append EOS as the vocabulary's add_bos/add_eos flags say.
  // parse_special: recognise control-token text ("<|eot_id|>", "<s>") as those tokens; keep
  // it off for user content so it cannot inject control tokens (user-defined added tokens are
  // recognised either way, as in llama.cpp and Hugging Face).
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // Encodes the concatenation of the segments as one text, but special-token text is only
  // recognised inside segments with parse_special: a rendered chat template passes its own
  // text with parse_special and the users' message contents without, so control tokens work
  // where the template writes them and cannot be injected through content.
  struct TextSegment {
    std::string_view text;
    bool parse_special = false;
  };
  std::vector<int32_t> encode_segments(const std::vector<TextSegment>& segments, bool add_special) const;

  // llama.cpp's detokenize (remove_special = false): concatenated pieces; for SPM the single
  // leading space that tokenization added is removed from the first token; control and unknown
  // tokens render as nothing unless render_special; BPE vocabularies with clean_spaces undo
  // " ," " ." " 's" style spacing. Ids outside the vocabulary render as nothing.
  std::string decode(const std::vector<int32_t>& ids, bool render_special = false) const;

  // One token's text with nothing stripped (llama_token_to_piece with lstrip 0), as a view
  // into a per-vocabulary cache. Empty for control/unknown tokens unless render_special, and
  // for invalid ids.
  std::string_view piece(int32_t id, bool render_special = false) const;

  // The raw bytes a token stands for: byte tokens -> that byte, SPM "▁" -> space, byte-level
  // BPE symbols mapped back to bytes, control tokens -> "" (== piece(id, false)). For
  // constrained decoding, which must know what text a token would append.
  std::string token_bytes(int32_t id) const { return std::string(piece(id, false)); }

  const Vocab& vocab() const { return *vocab_; }
  int32_t n_tokens() const { return vocab_->n_tokens(); }
  bool is_eog(int32_t id) const { return vocab_->is_eog(id); }

 private:
  Tokenizer() = default;
  std::string render_token(int32_t id) const;
  std::vector<int32_t> encode_fragments(std::string_view text, const std::vector<tokenizer_detail::Fragment>& fragments,
                                        bool add_special) const;

  std::shared_ptr<const Vocab> vocab_;
  std::unique_ptr<const tokenizer_detail::PreTokenizer> pre_;  // BPE only
  std::vector<std::string> pieces_;                            // [n_tokens] rendering with specials shown
};

}  // namespace corral
