// The state of one sequence being served by a runner.
#pragma once

#include <memory>
#include <vector>

#include "engine/kv_cache.h"
#include "sampling/sampler.h"
#include "scheduler/job.h"
#include "tokenizer/stream_decoder.h"

namespace corral::scheduler {

struct Slot {
  enum class State { kFree, kPrefill, kDecode };
  State state = State::kFree;
  std::shared_ptr<Job> job;
  engine::SeqId seq = 0;
  std::vector<int32_t> tokens;     // prompt + generated, in order
  size_t n_prompt = 0;             // prompt tokens
  size_t n_fed = 0;                // tokens already in the KV cache
  int64_t num_ctx = 0;
  int64_t num_predict = -1;
  int64_t n_generated = 0;
  uint64_t admitted_order = 0;     // for round-robin prompt chunks
  std::unique_ptr<sampling::Sampler> sampler;
  std::unique_ptr<StreamDecoder> decoder;
  JobStats stats;
  Clock::time_point t_admitted{};

  bool active() const { return state != State::kFree; }
};

}  // namespace corral::scheduler
