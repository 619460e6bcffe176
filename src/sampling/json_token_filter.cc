#include "sampling/json_token_filter.h"

#include <algorithm>

#include "base/check.h"

namespace corral::sampling {

JsonTokenFilter::JsonTokenFilter(std::shared_ptr<const TokenTrie> vocab, std::shared_ptr<const JsonProgram> program,
                                 std::vector<int32_t> eog_tokens)
    : vocab_(std::move(vocab)),
      program_(std::move(program)),
      eog_(std::move(eog_tokens)),
      state_(program_.get()),
      walk_(static_cast<size_t>(vocab_->max_depth()) + 1, JsonConstraint(program_.get())) {
  for (int32_t t : eog_) CORRAL_CHECK(t >= 0 && t < vocab_->n_vocab(), "eog token {}", t);
}

bool JsonTokenFilter::is_eog(int32_t token) const { return std::find(eog_.begin(), eog_.end(), token) != eog_.end(); }

void JsonTokenFilter::allowed(std::vector<uint8_t>& mask) {
  CORRAL_CHECK(static_cast<int>(mask.size()) == vocab_->n_vocab());
  std::fill(mask.begin(), mask.end(), 0);
  if (finished_) return;
  const auto& nodes = vocab_->nodes();
  const auto& tokens = vocab_->tokens();
  walk_[0].copy_from(state_);
  // Inside a free string most of the vocabulary is plain text: take those subtrees whole.
  const bool in_string = state_.in_free_string();
  // Pre-order walk: walk_[d - 1] holds the state after the parent's bytes whenever a node of
  // depth d is visited; a rejected byte skips the node's whole subtree.
  for (size_t i = 0; i < nodes.size();) {
    const TokenTrie::Node& n = nodes[i];
    if (in_string && (n.flags & TokenTrie::kStringContent)) {
      for (uint32_t k = n.tok_begin; k < n.subtree_end; ++k) mask[tokens[k]] = 1;
      i = n.end;
      continue;
    }
    JsonConstraint& s = walk_[n.depth];
    s.copy_from(walk_[n.depth - 1]);
    if (!s.step(n.byte)) {
      i = n.end;
      continue;
    }
    for (uint32_t k = n.tok_begin; k < n.tok_end; ++k) mask[tokens[k]] = 1;
    ++i;
  }
  const bool done = state_.complete();
  for (int32_t t : eog_) mask[t] = done;
}

bool JsonTokenFilter::allows(int32_t token) const {
  if (finished_ || token < 0 || token >= vocab_->n_vocab()) return false;
  if (is_eog(token)) return state_.complete();
  const std::string_view b = vocab_->bytes(token);
  if (b.empty()) return false;
  JsonConstraint s(program_.get());
  s.copy_from(state_);
  return s.feed(b);
}

bool JsonTokenFilter::accept(int32_t token) {
  if (finished_ || token < 0 || token >= vocab_->n_vocab()) return false;
  if (is_eog(token)) {
    if (!state_.complete()) return false;
    finished_ = true;
    return true;
  }
  const std::string_view b = vocab_->bytes(token);
  if (b.empty()) return false;
  JsonConstraint& s = walk_[0];
  s.copy_from(state_);
  if (!s.feed(b)) return false;
  state_.copy_from(s);
  return true;
}

std::string JsonTokenFilter::bytes_to_complete() const {
  return finished_ ? std::string() : state_.bytes_to_complete();
}

}  // namespace corral::sampling
