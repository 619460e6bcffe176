// Splitting text around special tokens written inside it ("<|im_start|>user ..."), before the
// text itself is tokenized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace corral::tokenizer_detail {

// A piece of the input: either a recognised special token or a span of raw text.
struct Fragment {
  int32_t token = kNoToken;  // kNoToken: raw text [offset, offset + length)
  size_t offset = 0;
  size_t length = 0;
};

// Partitions `text` as llama.cpp does: special tokens are tried longest first, each one
// splitting every raw span it occurs in; lstrip/rstrip tokens eat the ASCII whitespace beside
// them. With parse_special off, control and unknown tokens stay plain text (so user content
// cannot inject them), but user-defined tokens are still recognised, as Hugging Face's
// tokenizers do with added tokens.
std::vector<Fragment> partition_special(const Vocab& vocab, std::string_view text, bool parse_special);

}  // namespace corral::tokenizer_detail
