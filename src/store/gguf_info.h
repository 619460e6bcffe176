// What `create` records about a GGUF layer, computed the way Ollama computes it (fs/ggml,
// format.HumanNumber, server/create.go), so `list` and `show` print the same details.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf_file.h"

namespace corral::store {

struct GgufSummary {
  std::string architecture;      // general.architecture
  uint64_t parameter_count = 0;  // sum of every tensor's element count (Ollama's count)
  std::string parameter_size;    // human_number(parameter_count)
  std::string file_type;         // file_type_name(general.file_type)
  std::string media_type;        // model, adapter or projector layer
  std::string chat_template;     // tokenizer.chat_template ("" when absent)
};

GgufSummary summarize_gguf(const gguf::GgufFile& f);

// Ollama's format.HumanNumber: 1B/2.8B (one decimal unless whole), 125M/500.50M (two decimals
// unless whole), 260K (rounded), plain below a thousand.
std::string human_number(uint64_t n);

// Ollama's FileType.String() for general.file_type (llama_ftype): "Q4_K_M", "F16", ... and
// "unknown" for the types it does not name. Ollama reads a file_type of 0 (all F32) as absent,
// so F32 files also show "unknown"; that is reproduced here.
std::string file_type_name(int64_t file_type);

}  // namespace corral::store
