// The merge algorithms (and WordPiece's greedy match), applied to one span of plain text (special tokens already split
// off by partition_special).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/vocab.h"

namespace corral::tokenizer_detail {

// SentencePiece-style: `text` already has spaces escaped as U+2581 (and the leading one added
// when due). Starts from UTF-8 characters and repeatedly merges the adjacent pair whose
// concatenation is the highest-scoring token; leftovers fall back to <0xXX> byte tokens.
void spm_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out);

// Byte-level BPE: pre-tokenizes `text` into words, maps each word's bytes to GPT-2's printable
// alphabet and merges by rank within the word.
void bpe_encode(const Vocab& vocab, const PreTokenizer& pre, std::string_view text, std::vector<int32_t>& out);

// WordPiece (BERT): normalizes and splits `text` into words (wpm_words.h) and covers each word
// with the longest matching pieces, or the unknown token when it cannot be covered.
void wpm_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out);

}  // namespace corral::tokenizer_detail
