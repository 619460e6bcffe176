// The PARAMETER names a Modelfile may use and their types: Ollama's api.Options and api.Runner
// (api/types.go) plus corral's own num_parallel. Values are checked the way Ollama's FormatParams
// checks them (Go's strconv.ParseInt / ParseFloat(32) / ParseBool) and stored as the JSON Ollama
// would write in the params layer: int64, float32 (as its shortest decimal), bool, or for `stop` an
// array of strings that grows with each repetition.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::store {

enum class ParamType { kInt, kFloat, kBool, kStringArray };

struct ParameterSpec {
  std::string_view name;
  ParamType type;
};

// nullptr for a name Ollama does not know. Names are case-sensitive, as in Ollama.
const ParameterSpec* find_parameter(std::string_view name);

// Checks `text` against the parameter's type and adds it to `params` (a JSON object whose keys
// stay sorted, as Go's map encoding sorts them). Errors use Ollama's texts:
//   unknown parameter 'foo'
//   invalid int value [abc]   invalid float value [abc]   invalid bool value [abc]
// Deviation: Go would accept "NaN"/"Inf" as floats and then fail to encode the params layer;
// they are rejected here as invalid float values.
Status add_parameter(nlohmann::json* params, std::string_view name, std::string_view text);

// Go's strconv.ParseBool spellings: 1 t T TRUE true True / 0 f F FALSE false False.
bool parse_go_bool(std::string_view s, bool* out);

}  // namespace corral::store
