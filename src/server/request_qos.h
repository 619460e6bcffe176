// The scheduling side of a request (docs/fairness.md), read the way llm-d's flow control reads
// it, so a gateway and a single corral behave alike:
//   tenant    the API key's tenant (CORRAL_API_KEYS), else x-llm-d-inference-fairness-id, else
//             the default tenant every request without one shares;
//   priority  x-llm-d-inference-objective, an objective named in CORRAL_OBJECTIVES (what the
//             gateway's operator configured wins over the client's body), else the body's
//             `priority` (vLLM's field: an integer, lower runs first), else 0;
//   deadline  x-llm-d-slo-ttft-ms or the body's `slo_ttft_ms` (the smaller when both): the
//             first token must come within that many milliseconds of arrival.
// A malformed value is a 400 naming the header or field; nothing is queued.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "scheduler/fairness_config.h"
#include "scheduler/job.h"
#include "server/http/request.h"

namespace corral::server {

inline constexpr const char* kFairnessIdHeader = "x-llm-d-inference-fairness-id";
inline constexpr const char* kObjectiveHeader = "x-llm-d-inference-objective";
inline constexpr const char* kSloTtftHeader = "x-llm-d-slo-ttft-ms";

// A day: a longer "deadline" protects nothing, and the bound keeps the arithmetic in range.
inline constexpr int64_t kMaxSloTtftMs = 86'400'000;
// A fairness id is a name, not a payload: 128 bytes holds any tenant or user id a gateway sends.
inline constexpr size_t kMaxFairnessIdBytes = 128;

struct RequestQos {
  scheduler::JobQos qos;           // tenant, priority and its class; no deadline yet
  std::optional<int64_t> ttft_ms;  // the deadline, from the job's arrival

  // Sets the job's qos, its deadline counted from job.created.
  void apply(scheduler::Job& job) const;
};

Result<RequestQos> read_request_qos(const http::Request& req, const nlohmann::ordered_json& body,
                                    const scheduler::FairnessConfig& config);

}  // namespace corral::server
