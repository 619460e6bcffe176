#include "sampling/sampling_params.h"

#include <cmath>

namespace corral::sampling {

Status validate(const SamplingParams& p) {
  const struct {
    const char* name;
    float value;
  } floats[] = {
      {"temperature", p.temperature},
      {"top_p", p.top_p},
      {"min_p", p.min_p},
      {"typical_p", p.typical_p},
      {"repeat_penalty", p.repeat_penalty},
      {"presence_penalty", p.presence_penalty},
      {"frequency_penalty", p.frequency_penalty},
  };
  for (const auto& f : floats) {
    if (!std::isfinite(f.value)) {
      return Status::errorf("sampling option {} must be a finite number, got {}", f.name, f.value);
    }
  }
  if (p.repeat_last_n < -1) {
    return Status::errorf("sampling option repeat_last_n must be >= -1 (0 disables, -1 means num_ctx), got {}",
                          p.repeat_last_n);
  }
  // llama.cpp divides positive logits by the penalty: 0 would divide by zero and a negative
  // value would flip the sign of every repeated token's logit.
  if (p.repeat_penalty <= 0.0f) {
    return Status::errorf("sampling option repeat_penalty must be > 0 (1 disables it), got {}", p.repeat_penalty);
  }
  return Status::ok();
}

}  // namespace corral::sampling
