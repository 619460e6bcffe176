// Byte-level BPE as llama.cpp runs it for `tokenizer.ggml.model = gpt2`: per pre-tokenized
// word, symbols are the characters of the byte-mapped word in a linked list, and a min-heap of
// adjacent pairs ordered by merge rank (ties: leftmost first) drives the merges.
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
  uint32_t start;  // byte offset into the mapped word
  uint32_t n;      // byte length; 0 once merged into its left neighbour
};

struct Bigram {
  int32_t rank;
  int32_t left;
  int32_t right;
  uint32_t size;  // byte length of the pair when queued, to detect stale entries
};

struct BigramOrder {  // "less" for std::priority_queue: the top is the lowest rank
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

// Per-call working memory, reused across the words of one call.
struct Scratch {
  std::string word;  // the current word in GPT-2's byte alphabet
  std::string key;   // merge lookup key
  std::vector<Symbol> syms;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
};

void merge_word(const Vocab& vocab, Scratch& s, std::vector<int32_t>& out) {
  const std::string_view word = s.word;
  // Llama 3 style vocabularies take a word that is already a token as is, even when the
  // merges would split it differently.
  if (vocab.ignore_merges()) {
    if (const int32_t id = vocab.find(word); id != kNoToken) {
      out.push_back(id);
      return;
    }
  }

  auto& syms = s.syms;
  syms.clear();
  for (size_t off = 0; off < word.size();) {
    const size_t len = std::min(utf8_len_from_lead(static_cast<uint8_t>(word[off])), word.size() - off);
    const auto index = static_cast<int32_t>(syms.size());
    syms.push_back(
        {index - 1, off + len == word.size() ? -1 : index + 1, static_cast<uint32_t>(off), static_cast<uint32_t>(len)});
    off += len;
  }
  if (syms.empty()) return;

  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t rank = vocab.merge_rank(word.substr(syms[left].start, syms[left].n),
                                          word.substr(syms[right].start, syms[right].n), s.key);
    if (rank < 0) return;
    s.queue.push({rank, left, right, syms[left].n + syms[right].n});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);

  while (!s.queue.empty()) {
    const Bigram b = s.queue.top();
    s.queue.pop();
    Symbol& left = syms[b.left];
    Symbol& right = syms[b.right];
    // Both sides are contiguous spans starting where they started when queued, so equal total
    // length means equal text: this is llama.cpp's "text still matches" staleness test.
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int32_t i = 0; i != -1; i = syms[i].next) {
    const std::string_view piece = word.substr(syms[i].start, syms[i].n);
    if (const int32_t id = vocab.find(piece); id != kNoToken) {
      out.push_back(id);
      continue;
    }
    // A symbol that is no token (possible only in incomplete vocabularies): llama.cpp looks up
    // each of its bytes as a one-byte token and drops the bytes that have none.
    for (char c : piece) {
      if (const int32_t id = vocab.find(std::string_view(&c, 1)); id != kNoToken) out.push_back(id);
    }
  }
}

}  // namespace

void bpe_encode(const Vocab& vocab, const PreTokenizer& pre, std::string_view text, std::vector<int32_t>& out) {
  // The regexes need valid UTF-8; llama.cpp's code-point decoding turns bad bytes into U+FFFD.
  const std::string valid = to_valid_utf8_bytewise(text);
  std::vector<std::string_view> words;
  pre.split(valid, words);

  Scratch s;
  for (std::string_view w : words) {
    s.word.clear();
    for (char c : w) s.word += byte_to_bpe_char(static_cast<uint8_t>(c));
    merge_word(vocab, s, out);
  }
}

}  // namespace corral::tokenizer_detail
