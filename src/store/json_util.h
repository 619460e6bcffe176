// JSON helpers shared by the store: exception-free parsing and output byte-compatible with Go's
// encoding/json, so the small blobs the store writes (params, messages, config, manifests) have
// the same bytes, hence the same digests, as the ones Ollama writes for the same content.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::store {

// Parses without exceptions; `what` names the document in the error ("manifest ...").
Result<nlohmann::ordered_json> parse_json(std::string_view text, const std::string& what);

// Serialises the way Go's json.Encoder does: compact, object keys in the given order, '<' '>' '&'
// and U+2028/U+2029 escaped as \u003c..., invalid UTF-8 replaced by U+FFFD, then a trailing
// newline. Never throws. (Go sorts map keys: build such objects with sorted keys.)
std::string go_json_encode(const nlohmann::ordered_json& value);
std::string go_json_encode(const nlohmann::json& value);  // keys sorted, as Go sorts map keys

// Go's fmt "%v" of a float64 (strconv 'g' with the shortest precision): "0.7", "1", "1e+06",
// "1e-05". Ollama renders PARAMETER values this way in `show --modelfile`.
std::string go_format_float(double v);

// The decimal value a float32 written by Go's JSON encoder carries: the shortest text that
// round-trips the float32, read back as a double (0.7f -> 0.7, not 0.699999988079071).
double float32_as_json_double(float v);

}  // namespace corral::store
