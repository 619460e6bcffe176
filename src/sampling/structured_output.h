// The request fields that ask for structured output, mapped to a JsonProgram the way Ollama
// maps them: a null program means "no constraint".
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "sampling/json_schema.h"

namespace corral::sampling {

// Ollama's "format": null or "" (none), "json" (any JSON object: the root of Ollama's JSON
// grammar is an object) or a JSON schema object. Parse the request as ordered_json so the
// schema's properties keep their order.
Result<std::shared_ptr<const JsonProgram>> program_for_format(const nlohmann::ordered_json& format,
                                                              const JsonLimits& limits = {});

// OpenAI's "response_format": {"type": "text"} (none), {"type": "json_object"} (as format
// "json") or {"type": "json_schema", "json_schema": {"schema": {...}, ...}}.
Result<std::shared_ptr<const JsonProgram>> program_for_response_format(const nlohmann::ordered_json& response_format,
                                                                       const JsonLimits& limits = {});

}  // namespace corral::sampling
