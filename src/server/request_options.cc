#include "server/request_options.h"

#include <cmath>
#include <string_view>

#include "sampling/sampling_params.h"

namespace corral::server {
namespace {

template <typename J>
Result<int64_t> as_int(const std::string& key, const J& v) {
  if (v.is_number_integer()) return v.template get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.template get<double>();
    // Go converts the float64 JSON number with int(); we require a whole, finite value.
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e18) return static_cast<int64_t>(d);
  }
  return Status::errorf("option \"{}\" must be of type integer", key);
}

template <typename J>
Result<double> as_float(const std::string& key, const J& v) {
  if (v.is_number()) return v.template get<double>();
  return Status::errorf("option \"{}\" must be of type float", key);
}

template <typename J>
Result<bool> as_bool(const std::string& key, const J& v) {
  if (v.is_boolean()) return v.template get<bool>();
  return Status::errorf("option \"{}\" must be of type boolean", key);
}

int clamp_int(int64_t v) { return static_cast<int>(std::clamp<int64_t>(v, -(1ll << 30), 1ll << 30)); }

template <typename J>
Status apply(const J& options, RequestOptions* out) {
  if (options.is_null()) return Status::ok();
  if (!options.is_object()) return Status::error("options must be a JSON object");
  sampling::SamplingParams& sp = out->job.sampling;
  for (auto it = options.begin(); it != options.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (v.is_null()) continue;
    if (key == "temperature") {
      CORRAL_ASSIGN_OR_RETURN(double x, as_float(key, v));
      sp.temperature = static_cast<float>(x);
    } else if (key == "top_k") {
      CORRAL_ASSIGN_OR_RETURN(int64_t x, as_int(key, v));
      sp.top_k = clamp_int(x);
    } else if (key == "top_p") {
      CORRAL_ASSIGN_OR_RETURN(double x, as_float(key, v));
      sp.top_p = static_cast<float>(x);
    } else if (key == "min_p") {
      CORRAL_ASSIGN_OR_RETURN(double x, as_float(key, v));
      sp.min_p = static_cast<float>(x);
    } else if (key == "typical_p") {
      CORRAL_ASSIGN_OR_RETURN(double x, as_float(key, v));
      sp.typical_p = static_cast<float>(x);
    } else if (key == "repeat_penalty") {
      CORRAL_ASSIGN_OR_RETURN(double x, as_float(key, v));
      sp.repeat_penalty = static_cast<float>(x);
    } else if (key == "repeat_last_n") {
      CORRAL_ASSIGN_OR_RETURN(int64_t x, as_int(key, v));
      sp.repeat_last_n = clamp_int(x);
    } else if (key == "presence_penalty") {
      CORRAL_ASSIGN_OR_RETURN(double x, as_float(key, v));
      sp.presence_penalty = static_cast<float>(x);
    } else if (key == "frequency_penalty") {
      CORRAL_ASSIGN_OR_RETURN(double x, as_float(key, v));
      sp.frequency_penalty = static_cast<float>(x);
    } else if (key == "seed") {
      CORRAL_ASSIGN_OR_RETURN(int64_t x, as_int(key, v));
      sp.seed = x;
    } else if (key == "num_predict") {
      CORRAL_ASSIGN_OR_RETURN(int64_t x, as_int(key, v));
      out->job.num_predict = x < 0 ? -1 : x;
    } else if (key == "num_ctx") {
      CORRAL_ASSIGN_OR_RETURN(int64_t x, as_int(key, v));
      if (x < 1 || x > (1 << 24)) return Status::errorf("option \"num_ctx\" must be between 1 and {}", 1 << 24);
      out->job.num_ctx = x;
    } else if (key == "num_keep") {
      CORRAL_ASSIGN_OR_RETURN(out->num_keep, as_int(key, v));
    } else if (key == "stop") {
      if (!v.is_array()) return Status::error("option \"stop\" must be of type array of strings");
      out->stop.clear();
      for (const auto& s : v) {
        if (!s.is_string()) return Status::error("option \"stop\" must be of type array of strings");
        out->stop.push_back(s.template get<std::string>());
      }
      out->stop_set = true;
    } else if (key == "num_batch" || key == "num_gpu" || key == "main_gpu" || key == "num_thread" ||
               key == "mirostat" || key == "num_parallel") {
      // Accepted for compatibility; corral schedules batches and threads itself (num_parallel
      // is read from the model's params by the model resolver).
      CORRAL_RETURN_IF_ERROR(as_int(key, v).status());
    } else if (key == "tfs_z" || key == "mirostat_tau" || key == "mirostat_eta") {
      CORRAL_RETURN_IF_ERROR(as_float(key, v).status());
    } else if (key == "penalize_newline" || key == "numa" || key == "use_mmap" || key == "use_mlock" ||
               key == "low_vram" || key == "f16_kv" || key == "vocab_only" || key == "logits_all") {
      CORRAL_RETURN_IF_ERROR(as_bool(key, v).status());
    }
    // Anything else: ignored, as Ollama does.
  }
  return sampling::validate(sp);
}

}  // namespace

Status apply_options(const nlohmann::ordered_json& options, RequestOptions* out) { return apply(options, out); }
Status apply_options(const nlohmann::json& options, RequestOptions* out) { return apply(options, out); }

}  // namespace corral::server
