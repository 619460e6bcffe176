// Turns generated token ids into text chunks for streaming, as Ollama's runner does:
//  - never emits part of a UTF-8 character (byte tokens can split one across several tokens):
//    an incomplete tail is held until the next token completes it;
//  - holds back text while it could still be the beginning of a stop sequence, and on a match
//    emits everything before the stop sequence, never the stop sequence itself, and stops;
//  - emits only valid UTF-8: bytes that can never form a character become U+FFFD.
// Pieces are rendered as Ollama's runner renders them (llama_token_to_piece with lstrip 0 and
// special = true): nothing is stripped, so the space an SPM token carries in front of the first
// generated word is kept (it separates the continuation from the prompt), and a control token
// that is not end-of-generation shows its text. End-of-generation tokens are the caller's to
// catch (Tokenizer::is_eog) before they reach push().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace corral {

class StreamDecoder {
 public:
  struct Options {
    bool render_special = true;        // false: control tokens render as nothing (llama-server)
    bool strip_leading_space = false;  // drop one leading space of the first piece, for text
                                       // generated from an empty prompt (llama.cpp detokenize)
  };

  // Empty stop strings are ignored. The tokenizer must outlive the decoder.
  StreamDecoder(const Tokenizer& tokenizer, std::vector<std::string> stop_sequences);
  StreamDecoder(const Tokenizer& tokenizer, std::vector<std::string> stop_sequences, Options opts);

  // Text that is safe to emit after `token` (possibly empty). After a stop, returns "".
  std::string push(int32_t token);
  // End of generation: flushes what is held back (an incomplete UTF-8 tail becomes U+FFFD).
  std::string finish();

  bool stopped() const { return stopped_; }
  // The stop sequence that ended generation ("" if none).
  const std::string& matched_stop() const { return matched_stop_; }
  // Everything emitted so far, concatenated.
  const std::string& emitted() const { return emitted_; }

 private:
  std::string emit(size_t n);    // emits the first n pending bytes, sanitized
  size_t stop_holdback() const;  // start of the longest pending suffix that prefixes a stop

  const Tokenizer& tokenizer_;
  std::vector<std::string> stops_;
  Options opts_;
  std::string pending_;  // raw bytes not emitted yet
  std::string emitted_;
  std::string matched_stop_;
  bool first_piece_ = true;
  bool stopped_ = false;
};

}  // namespace corral
