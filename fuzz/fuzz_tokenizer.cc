// Fuzz target: the tokenizers. Vocabularies are loaded once (SentencePiece: llama-spm, phi-3,
// stories260K; byte-level BPE: gpt-2, llama-bpe (llama 3), qwen2, deepseek-llm, syn-gptoss;
// WordPiece: bert-bge).
// The first input byte picks the vocabulary and the flags, the rest is the text: it is encoded
// (with and without special-token parsing), decoded, and the ids are streamed through
// StreamDecoder; then the text's bytes, read as token ids (in and out of range), are decoded and
// streamed too, with a stop sequence taken from the text.
//
// Test data: CORRAL_TEST_DATA (default ../shared beside the repository), as the tests read it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "gguf/gguf_file.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

using namespace corral;

namespace {

std::vector<std::shared_ptr<const Tokenizer>> g_tokenizers;

std::string data_dir() {
  if (const char* env = std::getenv("CORRAL_TEST_DATA"); env && *env) return env;
  return std::string(CORRAL_SOURCE_DIR) + "/../shared";
}

void load(const std::string& rel) {
  const std::string path = data_dir() + "/" + rel;
  auto file = gguf::GgufFile::open(path);
  if (!file) {
    std::fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path.c_str(), file.error().c_str());
    std::abort();
  }
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok) {
    std::fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path.c_str(), tok.error().c_str());
    std::abort();
  }
  g_tokenizers.push_back(*tok);
}

void stream(const Tokenizer& tok, const std::vector<int32_t>& ids, std::vector<std::string> stops, bool opt) {
  StreamDecoder::Options o;
  o.render_special = opt;
  o.strip_leading_space = !opt;
  StreamDecoder dec(tok, std::move(stops), o);
  std::string out;
  for (int32_t id : ids) {
    if (tok.is_eog(id)) break;
    out += dec.push(id);
    if (dec.stopped()) break;
  }
  out += dec.finish();
  // The decoder's contract: what it emitted is what it says it emitted.
  if (out != dec.emitted()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const char* rel :
       {"vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-phi-3.gguf", "models/stories260K.gguf",
        "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-llama-bpe.gguf", "vocab/ggml-vocab-qwen2.gguf",
        "vocab/ggml-vocab-deepseek-llm.gguf", "vocab/ggml-vocab-syn-gptoss.gguf", "vocab/ggml-vocab-bert-bge.gguf"}) {
    load(rel);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t sel = data[0];
  const Tokenizer& tok = *g_tokenizers[sel % g_tokenizers.size()];
  const bool add_special = sel & 0x10;
  const bool parse_special = sel & 0x20;
  const bool render_special = sel & 0x40;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::vector<int32_t> ids = tok.encode(text, add_special, parse_special);
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.n_tokens()) __builtin_trap();  // encode only returns valid ids
  }
  fuzz::keep(tok.decode(ids, render_special));
  // Segments: the text split in two, only the first half may hold control tokens.
  const size_t half = text.size() / 2;
  fuzz::keep(tok.encode_segments({{text.substr(0, half), true}, {text.substr(half), false}}, add_special));
  const std::string stop(text.substr(0, std::min<size_t>(text.size(), sel & 7)));
  stream(tok, ids, {stop, "\n\n"}, render_special);

  // The bytes as ids: pairs of bytes, some beyond the vocabulary and some negative.
  std::vector<int32_t> raw;
  for (size_t i = 0; i + 1 < text.size(); i += 2) {
    int32_t v;
    int16_t s;
    std::memcpy(&s, text.data() + i, 2);
    v = sel & 0x80 ? s : s % (tok.n_tokens() + 8);
    raw.push_back(v);
  }
  fuzz::keep(tok.decode(raw, render_special));
  for (int32_t id : raw) fuzz::keep(tok.piece(id, render_special));
  stream(tok, raw, {stop}, !render_special);
  return 0;
}
