// The model summary `ollama show MODEL` prints (and `/show info` in `run`): Model
// (architecture, parameters, context and embedding length, quantization), Capabilities,
// Parameters, System and License (their first two lines), each as an indented table.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace corral::cli {

// From an /api/show response.
std::string render_show_info(const nlohmann::json& show);

}  // namespace corral::cli
