#include "server/openai/request.h"

#include <cstdint>

#include <cmath>

namespace corral::server::openai {
namespace {

bool present(const ordered_json& b, const char* key) {
  auto it = b.find(key);
  return it != b.end() && !it->is_null();
}

Status type_error(const char* key, const char* expected) {
  return Status::errorf("invalid type for '{}': expected {}", key, expected);
}

// An integer field (JSON has one number type: a whole float counts, as in Go).
Result<int64_t> integer(const ordered_json& b, const char* key) {
  const ordered_json& v = b.at(key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e18) return static_cast<int64_t>(d);
  }
  return type_error(key, "an integer");
}

Status copy_number(const ordered_json& b, const char* key, ordered_json& options, const char* option) {
  if (!present(b, key)) return Status::ok();
  if (!b.at(key).is_number()) return type_error(key, "a number");
  options[option] = b.at(key);
  return Status::ok();
}

Status read_stop(const ordered_json& b, ordered_json& options) {
  if (!present(b, "stop")) return Status::ok();
  const ordered_json& v = b.at("stop");
  if (v.is_string()) {
    options["stop"] = ordered_json::array({v});
    return Status::ok();
  }
  if (!v.is_array()) return type_error("stop", "a string or an array of strings");
  for (const auto& s : v)
    if (!s.is_string()) return type_error("stop", "a string or an array of strings");
  // An empty list adds no stops; the template's own stay (an Ollama "stop" would replace them).
  if (!v.empty()) options["stop"] = v;
  return Status::ok();
}

}  // namespace

Result<CommonFields> parse_common_fields(const ordered_json& b) {
  CommonFields f;
  if (present(b, "model")) {
    if (!b.at("model").is_string()) return type_error("model", "a string");
    f.model = b.at("model").get<std::string>();
  }
  if (present(b, "stream")) {
    if (!b.at("stream").is_boolean()) return type_error("stream", "a boolean");
    f.stream = b.at("stream").get<bool>();
  }
  if (present(b, "stream_options")) {
    const ordered_json& so = b.at("stream_options");
    if (!so.is_object()) return type_error("stream_options", "an object");
    if (present(so, "include_usage")) {
      if (!so.at("include_usage").is_boolean()) return type_error("stream_options.include_usage", "a boolean");
      f.include_usage = so.at("include_usage").get<bool>();
    }
  }
  if (present(b, "n")) {
    CORRAL_ASSIGN_OR_RETURN(int64_t n, integer(b, "n"));
    if (n < 1 || n > kMaxChoices) return Status::errorf("'n' must be between 1 and {}", kMaxChoices);
    f.n = static_cast<int>(n);
  }
  if (present(b, "best_of")) {
    CORRAL_ASSIGN_OR_RETURN(int64_t n, integer(b, "best_of"));
    if (n < 1) return Status::error("'best_of' must be at least 1");
    if (n > 1) return Status::error("'best_of' greater than 1 is not supported");
  }
  if (present(b, "echo")) {
    const ordered_json& v = b.at("echo");
    if (!v.is_boolean()) return type_error("echo", "a boolean");
    if (v.get<bool>()) return Status::error("echo is not supported");
  }
  // Chat's logprobs is a boolean (alternatives in top_logprobs, 0..20), the legacy
  // completions' an integer: the number of alternatives, 0..5.
  if (present(b, "logprobs")) {
    const ordered_json& v = b.at("logprobs");
    if (v.is_boolean()) {
      if (v.get<bool>()) f.top_logprobs = 0;
    } else if (v.is_number_integer()) {
      const int64_t n = v.get<int64_t>();
      if (n < 0 || n > 5) return Status::error("'logprobs' must be between 0 and 5");
      f.top_logprobs = static_cast<int>(n);
    } else if (!v.is_null()) {
      return type_error("logprobs", "a boolean or an integer");
    }
  }
  if (present(b, "top_logprobs")) {
    CORRAL_ASSIGN_OR_RETURN(int64_t n, integer(b, "top_logprobs"));
    if (n < 0 || n > 20) return Status::error("'top_logprobs' must be between 0 and 20");
    if (f.top_logprobs < 0 && n > 0) return Status::error("'top_logprobs' requires 'logprobs' to be true");
    if (f.top_logprobs >= 0) f.top_logprobs = static_cast<int>(n);
  }

  ordered_json& o = f.options;
  // max_completion_tokens replaced max_tokens in OpenAI's chat API; it wins when both are set.
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (!present(b, key)) continue;
    CORRAL_ASSIGN_OR_RETURN(int64_t n, integer(b, key));
    if (n < 1) return Status::errorf("'{}' must be at least 1", key);
    o["num_predict"] = n;
  }
  o["temperature"] = 1.0;
  o["top_p"] = 1.0;
  CORRAL_RETURN_IF_ERROR(copy_number(b, "temperature", o, "temperature"));
  CORRAL_RETURN_IF_ERROR(copy_number(b, "top_p", o, "top_p"));
  CORRAL_RETURN_IF_ERROR(copy_number(b, "frequency_penalty", o, "frequency_penalty"));
  CORRAL_RETURN_IF_ERROR(copy_number(b, "presence_penalty", o, "presence_penalty"));
  if (present(b, "seed")) { CORRAL_ASSIGN_OR_RETURN(o["seed"], integer(b, "seed")); }
  CORRAL_RETURN_IF_ERROR(read_stop(b, o));
  return f;
}

}  // namespace corral::server::openai
