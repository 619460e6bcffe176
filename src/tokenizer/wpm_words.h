// BERT's text normalisation for WordPiece vocabularies, as llama.cpp b4748's
// llm_tokenizer_wpm preprocess does it: every code point is replaced by the first code point of
// its NFD decomposition (which strips accents: "é" -> "e"), whitespace splits words, control
// characters, NUL and U+FFFD are dropped, everything is lower-cased, and punctuation, ASCII
// symbols and CJK ideographs become words of their own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace corral::tokenizer_detail {

// The words of `text` (UTF-8; malformed bytes count as U+FFFD and are dropped), in order,
// none empty.
std::vector<std::string> wpm_words(std::string_view text);

}  // namespace corral::tokenizer_detail
