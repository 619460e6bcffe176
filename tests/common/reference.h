// The llama.cpp reference cases in ../shared/reference (see its README, section 4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace corral::testing {

struct ReferenceStep {
  int32_t top1_id;
  float top1_logit;
  int32_t top2_id;
  float top2_logit;
  float margin() const { return top1_logit - top2_logit; }
};

struct ReferenceCase {
  std::string name;        // "<model>__<prompt>"
  std::string model_path;  // absolute
  std::string prompt_id;
  std::string prompt;
  bool add_bos = false;
  int64_t n_vocab = 0;
  std::vector<int32_t> tokens;
  // top10[i] = the 10 highest (id, logit) at prompt position i, highest first.
  std::vector<std::vector<std::pair<int32_t, float>>> top10;
  std::vector<int32_t> greedy_ids;
  std::vector<ReferenceStep> greedy_steps;
  std::string greedy_stop_reason;
  std::string greedy_text;
  bool greedy_text_valid_utf8 = true;
  std::string logits_path;       // empty when no logits file is shipped
  std::string arch;              // the model's general.architecture (reference-families index only)
  std::vector<int32_t> eog_ids;  // end-of-generation ids (reference-families index only)
};

// Every case listed in reference/index.json (fails the test if the index is unreadable).
std::vector<ReferenceCase> load_reference_cases();
// The cases of reference-families/index.json (ik_llama.cpp's outputs for the newer families,
// ../shared/README-new-archs.md) whose architecture is one of `archs`.
std::vector<ReferenceCase> load_family_reference_cases(const std::vector<std::string>& archs);
// Reads a case's full logits file: [n_tokens][n_vocab].
std::vector<float> load_reference_logits(const ReferenceCase& c);

}  // namespace corral::testing
