#include "tokenizer/encoders.h"
#include "tokenizer/wpm_words.h"

namespace corral::tokenizer_detail {
namespace {

constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581: llama.cpp's mark of a word-initial piece

}  // namespace

// Greedy longest match from the left, as llama.cpp b4748's llm_tokenizer_wpm_session: each
// word (with the U+2581 mark in front) is covered by the longest vocabulary pieces that match
// at each byte offset; a word that cannot be covered entirely becomes one unknown token.
void wpm_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
  std::string word;
  for (const std::string& w : wpm_words(text)) {
    word.assign(kWordStart);
    word += w;
    const size_t n = word.size();
    const size_t start = out.size();
    for (size_t i = 0; i < n;) {
      int32_t id = kNoToken;
      size_t len = 0;
      // Only lengths some piece has are tried, longest first: a handful for real vocabularies,
      // which keeps a hostile one from costing a lookup per byte of the longest piece.
      for (size_t l : vocab.piece_lengths()) {
        if (l > n - i) continue;
        id = vocab.find(std::string_view(word).substr(i, l));
        if (id != kNoToken) {
          len = l;
          break;
        }
      }
      if (id == kNoToken) {
        out.resize(start);
        break;
      }
      out.push_back(id);
      i += len;
    }
    if (out.size() == start) out.push_back(vocab.unk());
  }
}

}  // namespace corral::tokenizer_detail
