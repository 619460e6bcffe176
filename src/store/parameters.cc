#include "store/parameters.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "store/json_util.h"

namespace corral::store {

namespace {

// Ollama's api.Options (runtime) and api.Runner (load time) fields by JSON name, plus corral's
// num_parallel (sequences served at once; OLLAMA_NUM_PARALLEL per model). Options Ollama has
// since deprecated (mirostat*, penalize_newline, low_vram, f16_kv, logits_all, vocab_only,
// use_mlock) are still accepted and stored so that older Modelfiles keep working; the engine may
// ignore them.
constexpr ParameterSpec kParameters[] = {
    // api.Runner
    {"num_ctx", ParamType::kInt},
    {"num_batch", ParamType::kInt},
    {"num_gpu", ParamType::kInt},
    {"main_gpu", ParamType::kInt},
    {"low_vram", ParamType::kBool},
    {"f16_kv", ParamType::kBool},
    {"logits_all", ParamType::kBool},
    {"vocab_only", ParamType::kBool},
    {"use_mmap", ParamType::kBool},
    {"use_mlock", ParamType::kBool},
    {"num_thread", ParamType::kInt},
    // api.Options
    {"num_keep", ParamType::kInt},
    {"seed", ParamType::kInt},
    {"num_predict", ParamType::kInt},
    {"top_k", ParamType::kInt},
    {"top_p", ParamType::kFloat},
    {"min_p", ParamType::kFloat},
    {"typical_p", ParamType::kFloat},
    {"repeat_last_n", ParamType::kInt},
    {"temperature", ParamType::kFloat},
    {"repeat_penalty", ParamType::kFloat},
    {"presence_penalty", ParamType::kFloat},
    {"frequency_penalty", ParamType::kFloat},
    {"mirostat", ParamType::kInt},
    {"mirostat_tau", ParamType::kFloat},
    {"mirostat_eta", ParamType::kFloat},
    {"penalize_newline", ParamType::kBool},
    {"stop", ParamType::kStringArray},
    // corral
    {"num_parallel", ParamType::kInt},
};

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no spaces or underscores.
bool parse_go_int(std::string_view s, int64_t* out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  uint64_t mag = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), mag);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  constexpr uint64_t kMaxPos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (neg) {
    if (mag > kMaxPos + 1) return false;
    *out = mag == kMaxPos + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(mag);
  } else {
    if (mag > kMaxPos) return false;
    *out = static_cast<int64_t>(mag);
  }
  return true;
}

// Go's strconv.ParseFloat(s, 32) for decimal text, rounded to float32 like Ollama's float32
// fields. Overflow of float32 is an error (Go's ErrRange); underflow rounds towards zero.
bool parse_go_float32(std::string_view s, float* out) {
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  // from_chars would also read "inf"/"nan" and hex; only plain decimals are taken (see header).
  if (body.empty() || !(std::isdigit(static_cast<unsigned char>(body[0])) || body[0] == '.')) { return false; }
  double d = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), d, std::chars_format::general);
  if (p != body.data() + body.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    size_t e = body.find_first_of("eE");
    bool negative_exponent = e != std::string_view::npos && e + 1 < body.size() && body[e + 1] == '-';
    if (!negative_exponent) return false;  // too large
    d = 0;
  } else if (ec != std::errc()) {
    return false;
  }
  float f = static_cast<float>(neg ? -d : d);
  if (!std::isfinite(f)) return false;
  *out = f;
  return true;
}

}  // namespace

bool parse_go_bool(std::string_view s, bool* out) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == t) return *out = true, true;
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == f) return *out = false, true;
  }
  return false;
}

const ParameterSpec* find_parameter(std::string_view name) {
  for (const ParameterSpec& p : kParameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Status add_parameter(nlohmann::json* params, std::string_view name, std::string_view text) {
  const ParameterSpec* spec = find_parameter(name);
  if (spec == nullptr) return Status::errorf("unknown parameter '{}'", name);
  std::string key(name);
  switch (spec->type) {
    case ParamType::kInt: {
      int64_t v = 0;
      if (!parse_go_int(text, &v)) return Status::errorf("invalid int value [{}]", text);
      (*params)[key] = v;
      break;
    }
    case ParamType::kFloat: {
      float v = 0;
      if (!parse_go_float32(text, &v)) return Status::errorf("invalid float value [{}]", text);
      (*params)[key] = float32_as_json_double(v);
      break;
    }
    case ParamType::kBool: {
      bool v = false;
      if (!parse_go_bool(text, &v)) return Status::errorf("invalid bool value [{}]", text);
      (*params)[key] = v;
      break;
    }
    case ParamType::kStringArray: {
      nlohmann::json& arr = (*params)[key];
      if (!arr.is_array()) arr = nlohmann::json::array();
      arr.push_back(std::string(text));
      break;
    }
  }
  return Status::ok();
}

}  // namespace corral::store
