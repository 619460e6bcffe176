#include "sampling/token_trie.h"

#include <algorithm>
#include <limits>

#include "base/check.h"

namespace corral::sampling {

TokenTrie::TokenTrie(const std::vector<std::string>& token_bytes) {
  size_t total = 0;
  for (const auto& t : token_bytes) total += t.size();
  CORRAL_CHECK(total < std::numeric_limits<uint32_t>::max());
  arena_.reserve(total);
  offsets_.reserve(token_bytes.size() + 1);
  for (const auto& t : token_bytes) {
    offsets_.push_back(static_cast<uint32_t>(arena_.size()));
    arena_ += t;
  }
  offsets_.push_back(static_cast<uint32_t>(arena_.size()));

  std::vector<int32_t> order;
  for (int32_t i = 0; i < n_vocab(); ++i) {
    const size_t len = bytes(i).size();
    if (len > 0 && len <= std::numeric_limits<uint16_t>::max()) order.push_back(i);
  }
  // Sorted, every string follows its prefixes and equal strings are adjacent, so one pass that
  // keeps the current path builds the trie directly in pre-order.
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return bytes(a) < bytes(b); });
  std::vector<uint32_t> path;  // node index at each depth of the current path
  std::string_view prev;
  for (int32_t id : order) {
    const std::string_view s = bytes(id);
    size_t common = 0;
    while (common < prev.size() && common < s.size() && prev[common] == s[common]) ++common;
    while (path.size() > common) {
      nodes_[path.back()].end = static_cast<uint32_t>(nodes_.size());
      path.pop_back();
    }
    for (size_t d = common; d < s.size(); ++d) {
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back(Node{0, 0, 0, static_cast<uint16_t>(d + 1), static_cast<uint8_t>(s[d])});
    }
    Node& n = nodes_[path.back()];
    if (n.tok_begin == n.tok_end) n.tok_begin = static_cast<uint32_t>(tokens_.size());
    tokens_.push_back(id);
    n.tok_end = static_cast<uint32_t>(tokens_.size());
    max_depth_ = std::max(max_depth_, static_cast<int>(s.size()));
    prev = s;
  }
  while (!path.empty()) {
    nodes_[path.back()].end = static_cast<uint32_t>(nodes_.size());
    path.pop_back();
  }
}

}  // namespace corral::sampling
