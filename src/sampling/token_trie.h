// The vocabulary as a byte trie in depth-first (pre-)order, built once per model and shared,
// immutable, by every sequence's token filter. Walking the nodes in order while skipping the
// subtree of each rejected node visits every token whose bytes are still acceptable, sharing
// the work for common prefixes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral::sampling {

class TokenTrie {
 public:
  // Node flag: every token in the subtree is text that can appear verbatim inside a JSON
  // string (well-formed UTF-8, possibly ending mid-character, with no '"', '\\' or control
  // characters), so in a free string state the whole subtree is allowed without walking it.
  static constexpr uint8_t kStringContent = 1;

  struct Node {
    uint32_t end;        // index one past this node's subtree
    uint32_t tok_begin;  // tokens spelled exactly by the path to here: tokens()[begin, tok_end)
    uint32_t tok_end;
    uint32_t subtree_end;  // tokens of the whole subtree: tokens()[tok_begin, subtree_end)
    uint16_t depth;        // 1 for children of the (implicit) root
    uint8_t byte;
    uint8_t flags;
  };

  // token_bytes[id] is what token id decodes to; empty strings (control and special tokens)
  // stay out of the trie. Tokens longer than 65535 bytes are left out too. The size must be
  // the number of logits the model produces: pad a model's extra output rows with "".
  explicit TokenTrie(const std::vector<std::string>& token_bytes);

  int n_vocab() const { return static_cast<int>(offsets_.size() - 1); }
  std::string_view bytes(int32_t token) const {
    return std::string_view(arena_).substr(offsets_[token], offsets_[token + 1] - offsets_[token]);
  }
  const std::vector<Node>& nodes() const { return nodes_; }  // pre-order
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int max_depth() const { return max_depth_; }

 private:
  std::string arena_;              // every token's bytes, back to back
  std::vector<uint32_t> offsets_;  // [n_vocab + 1] token i is arena_[offsets_[i], offsets_[i+1])
  std::vector<Node> nodes_;
  std::vector<int32_t> tokens_;
  int max_depth_ = 0;
};

}  // namespace corral::sampling
