#include "sampling/token_trie.h"

#include <algorithm>
#include <limits>

#include "base/check.h"
#include "sampling/utf8.h"

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
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return bytes(a) < bytes(b); });
  // Tokens are appended in the same order as their nodes, so a subtree's tokens are the
  // contiguous run appended between its node's creation and its closing.
  std::vector<uint32_t> path;    // node index at each depth of the current path
  std::vector<Utf8Cursor> utf8;  // string-content state after each byte of the path
  std::vector<bool> text;        // whether the path so far is string content
  auto close = [&]() {
    Node& n = nodes_[path.back()];
    n.end = static_cast<uint32_t>(nodes_.size());
    n.subtree_end = static_cast<uint32_t>(tokens_.size());
    path.pop_back();
    // A parent is string content only if all of its subtrees are.
    if (!path.empty() && !(n.flags & kStringContent)) nodes_[path.back()].flags &= ~kStringContent;
  };
  std::string_view prev;
  for (int32_t id : order) {
    const std::string_view s = bytes(id);
    size_t common = 0;
    while (common < prev.size() && common < s.size() && prev[common] == s[common]) ++common;
    while (path.size() > common) close();
    utf8.resize(common);
    text.resize(common);
    for (size_t d = common; d < s.size(); ++d) {
      const uint8_t b = static_cast<uint8_t>(s[d]);
      Utf8Cursor u = d ? utf8[d - 1] : Utf8Cursor{};
      const bool ok = (d == 0 || text[d - 1]) && b != '"' && b != '\\' && b >= 0x20 && u.step(b);
      utf8.push_back(u);
      text.push_back(ok);
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      const uint32_t first = static_cast<uint32_t>(tokens_.size());
      nodes_.push_back(Node{0, first, first, first, static_cast<uint16_t>(d + 1), b, ok ? kStringContent : uint8_t{0}});
    }
    tokens_.push_back(id);
    nodes_[path.back()].tok_end = static_cast<uint32_t>(tokens_.size());
    max_depth_ = std::max(max_depth_, static_cast<int>(s.size()));
    prev = s;
  }
  while (!path.empty()) close();
}

}  // namespace corral::sampling
