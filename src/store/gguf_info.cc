#include "store/gguf_info.h"

#include <cmath>

#include <fmt/format.h>

#include "store/manifest.h"

namespace corral::store {

std::string human_number(uint64_t n) {
  constexpr uint64_t kThousand = 1000, kMillion = kThousand * 1000, kBillion = kMillion * 1000;
  double v = static_cast<double>(n);
  if (n >= kBillion) {
    double x = v / kBillion;
    return x == std::floor(x) ? fmt::format("{:.0f}B", x) : fmt::format("{:.1f}B", x);
  }
  if (n >= kMillion) {
    double x = v / kMillion;
    return x == std::floor(x) ? fmt::format("{:.0f}M", x) : fmt::format("{:.2f}M", x);
  }
  if (n >= kThousand) return fmt::format("{:.0f}K", v / kThousand);
  return std::to_string(n);
}

std::string file_type_name(int64_t t) {
  switch (t) {
    // 0 (F32) is deliberately absent: Ollama's KV.FileType() treats 0 as "not set".
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 4: return "MXFP4";  // formerly Q4_1_F16
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K_S";
    case 12: return "Q3_K_M";
    case 13: return "Q3_K_L";
    case 14: return "Q4_K_S";
    case 15: return "Q4_K_M";
    case 16: return "Q5_K_S";
    case 17: return "Q5_K_M";
    case 18: return "Q6_K";
    case 21: return "Q2_K_S";
    case 32: return "BF16";
    default: return "unknown";
  }
}

GgufSummary summarize_gguf(const gguf::GgufFile& f) {
  GgufSummary s;
  s.architecture = f.string_or("general.architecture", "");
  for (const gguf::TensorInfo& t : f.tensors()) { s.parameter_count += static_cast<uint64_t>(t.n_elements()); }
  s.parameter_size = human_number(s.parameter_count);
  s.file_type = file_type_name(f.int_or("general.file_type", 0));
  s.chat_template = f.string_or("tokenizer.chat_template", "");
  // Ollama's ggufLayers: adapters by general.type, projectors by general.type or by a vision
  // block count under the architecture's prefix.
  std::string kind = f.string_or("general.type", "");
  if (kind == "adapter") {
    s.media_type = std::string(media_type::kAdapter);
  } else if (kind == "projector" || f.find(s.architecture + ".vision.block_count") != nullptr) {
    s.media_type = std::string(media_type::kProjector);
  } else {
    s.media_type = std::string(media_type::kModel);
  }
  return s;
}

}  // namespace corral::store
