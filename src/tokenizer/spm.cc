// SentencePiece-style BPE as llama.cpp runs it for `tokenizer.ggml.model = llama`: symbols
// are UTF-8 characters in a linked list; a max-heap of adjacent pairs ordered by the score of
// the token they would form (ties: leftmost first) drives the merges.
#include <algorithm>
#include <queue>
#include <string>

#include "tokenizer/encoders.h"
#include "tokenizer/utf8.h"

namespace corral::tokenizer_detail {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;  // byte offset into the text
  uint32_t n;      // byte length; 0 once merged into its left neighbour
};

struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;  // byte length of the pair when queued, to detect stale entries
};

struct BigramOrder {  // "less" for std::priority_queue: the top is the best pair
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void spm_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
  std::vector<Symbol> syms;
  syms.reserve(text.size());
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(utf8_len_from_lead(static_cast<uint8_t>(text[off])), text.size() - off);
    const auto index = static_cast<int32_t>(syms.size());
    syms.push_back(
        {index - 1, off + len == text.size() ? -1 : index + 1, static_cast<uint32_t>(off), static_cast<uint32_t>(len)});
    off += len;
  }
  if (syms.empty()) return;

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t size = syms[left].n + syms[right].n;
    const int32_t id = vocab.find(text.substr(syms[left].start, size));
    if (id == kNoToken) return;
    queue.push({vocab.score(id), left, right, size});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = syms[b.left];
    Symbol& right = syms[b.right];
    // Stale if either side has been merged away or has grown since the pair was queued.
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int32_t i = 0; i != -1; i = syms[i].next) {
    const std::string_view piece = text.substr(syms[i].start, syms[i].n);
    const int32_t id = vocab.find(piece);
    if (id != kNoToken) {
      out.push_back(id);
      continue;
    }
    // Only single characters can be left unmatched (every merge forms a token): spell them
    // with byte tokens. A vocabulary without byte tokens gets one <unk> per such character
    // (llama.cpp aborts there; SentencePiece itself emits <unk>).
    bool all_bytes = true;
    for (char c : piece) all_bytes &= vocab.byte_token(static_cast<uint8_t>(c)) != kNoToken;
    if (all_bytes) {
      for (char c : piece) out.push_back(vocab.byte_token(static_cast<uint8_t>(c)));
    } else if (vocab.unk() != kNoToken) {
      out.push_back(vocab.unk());
    }
  }
}

}  // namespace corral::tokenizer_detail
