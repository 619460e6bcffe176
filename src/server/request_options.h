// Ollama's generation options ("options" in a request, PARAMETERs in a Modelfile), merged in
// Ollama's order: built-in defaults, then the model's params layer, then the request.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "scheduler/job.h"

namespace corral::server {

struct RequestOptions {
  scheduler::JobOptions job;  // sampling, num_predict, num_ctx
  std::vector<std::string> stop;
  bool stop_set = false;  // an explicit stop list (even empty) replaces template stops
  int64_t num_keep = 4;
};

// Applies one layer of options. Unknown keys are ignored (Ollama logs and ignores them); a
// known key with the wrong JSON type is an error ("option \"top_k\" must be of type integer").
// Integers may be given as whole floats (JSON has one number type, as in Go).
Status apply_options(const nlohmann::ordered_json& options, RequestOptions* out);
Status apply_options(const nlohmann::json& options, RequestOptions* out);

}  // namespace corral::server
