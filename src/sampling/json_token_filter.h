// Constrains a sequence's tokens to JSON (free-form or a compiled schema): a TokenFilter over
// a shared TokenTrie and a shared JsonProgram, holding only this sequence's JsonConstraint.
#pragma once

#include <memory>
#include <vector>

#include "sampling/json_constraint.h"
#include "sampling/json_schema.h"
#include "sampling/token_filter.h"
#include "sampling/token_trie.h"

namespace corral::sampling {

class JsonTokenFilter final : public TokenFilter {
 public:
  // eog_tokens end generation: allowed exactly when the JSON value is complete, whatever
  // their bytes.
  JsonTokenFilter(std::shared_ptr<const TokenTrie> vocab, std::shared_ptr<const JsonProgram> program,
                  std::vector<int32_t> eog_tokens);

  void allowed(std::vector<uint8_t>& mask) override;
  bool allows(int32_t token) const override;
  bool accept(int32_t token) override;
  bool complete() const override { return !finished_ && state_.complete(); }
  std::string bytes_to_complete() const override;
  // Whether an end-of-generation token was accepted (nothing is allowed after it).
  bool finished() const { return finished_; }

 private:
  bool is_eog(int32_t token) const;

  std::shared_ptr<const TokenTrie> vocab_;
  std::shared_ptr<const JsonProgram> program_;
  std::vector<int32_t> eog_;
  JsonConstraint state_;
  bool finished_ = false;
  std::vector<JsonConstraint> walk_;  // [max token length + 1] one state per trie depth
};

}  // namespace corral::sampling
