// Embeddings of several inputs, each submitted as its own job so the runner batches them, with
// one answer once all are done. Shared by Ollama's /api/embed(dings) and OpenAI's
// /v1/embeddings, which differ only in the request they read and the body they write.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/api_context.h"
#include "server/completion_stream.h"
#include "server/request_options.h"
#include "server/request_qos.h"

namespace corral::server {

struct EmbedGather {
  std::mutex mu;
  std::vector<std::vector<float>> vectors;  // [input][n_embd]
  int remaining = 0;
  bool failed = false;
  int64_t prompt_tokens = 0;
  scheduler::Clock::duration load{};
  scheduler::Clock::time_point t0 = scheduler::Clock::now();
};

// Default member initializers let callers name only the fields they set.
struct EmbedRequest {
  std::vector<std::string> inputs = {};  // non-empty
  RequestOptions options = {};
  bool truncate = true;   // cut an over-long input to num_ctx instead of failing
  bool normalize = true;  // L2-normalise each vector
  std::optional<scheduler::KeepAlive> keep_alive = {};
  RequestQos qos = {};  // tenant, priority and TTFT deadline (read_request_qos), as completions
};

// Submits one job per input; `answer` builds the 200 body once every vector is in. Errors
// (the first one wins, the other jobs are cancelled) are answered in `errors`' style.
void run_embeddings(ApiContext& ctx, const ServedModel& m, EmbedRequest req, Writer w, const ErrorShape& errors,
                    std::function<ordered_json(EmbedGather&)> answer);

}  // namespace corral::server
