// Fuzz target: the GGUF reader on an in-memory image, then everything that reads a parsed file
// without trusting it (typed lookups, value rendering, tensor bounds, the store's summary and
// the tokenizer built from tokenizer.ggml.* metadata).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "gguf/gguf_file.h"
#include "store/gguf_info.h"
#include "tokenizer/tokenizer.h"

using namespace corral;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = gguf::GgufFile::from_bytes(std::string(reinterpret_cast<const char*>(data), size));
  if (!file) return 0;
  const gguf::GgufFile& f = **file;
  for (const auto& [key, value] : f.metadata()) {
    fuzz::keep(value.to_string());
    fuzz::keep(f.get_int(key));
    fuzz::keep(f.get_float(key));
    fuzz::keep(f.get_bool(key));
    fuzz::keep(f.get_string(key));
    fuzz::keep(value.as_uint());
    if (value.is_array()) fuzz::keep(value.size());
  }
  // Every tensor's bytes must lie inside the image: touching the first and last byte lets ASan
  // catch an offset or size check the reader got wrong.
  uint8_t sum = 0;
  for (const auto& t : f.tensors()) {
    fuzz::keep(t.shape_string());
    fuzz::keep(t.row_bytes());
    if (t.nbytes > 0 && t.data != nullptr) sum ^= t.data[0] ^ t.data[t.nbytes - 1];
    if (f.find_tensor(t.name) == nullptr) __builtin_trap();
  }
  fuzz::keep(sum);
  fuzz::keep(store::summarize_gguf(f));
  auto tok = Tokenizer::from_gguf(f);
  if (tok) {
    const auto ids = (*tok)->encode("Hello world <s> <|endoftext|> \xe2\x96\x81x", true, true);
    fuzz::keep((*tok)->decode(ids, true));
  }
  return 0;
}
