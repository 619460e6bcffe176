// Parsed model files by path, shared by the request threads (which tokenize prompts before the
// model is loaded) and the loader (which reads the weights of the same parsed file): each GGUF
// is opened and its tokenizer built once while it stays in this small LRU cache.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace corral::scheduler {

struct ModelFile {
  std::shared_ptr<const gguf::GgufFile> file;
  std::shared_ptr<const Tokenizer> tokenizer;
  int64_t context_length = 0;  // trained_context_length(*file)
};

// The context the model was trained for: <arch>.context_length, 0 when absent or not a
// positive integer (then nothing caps num_ctx, as in Ollama).
int64_t trained_context_length(const gguf::GgufFile& f);

class ModelFileCache {
 public:
  // A handful of models at a time: each entry holds a file mapping open, not its weights in RAM.
  explicit ModelFileCache(size_t max_entries = 8) : max_entries_(max_entries) {}

  // The parsed file and tokenizer at `path` (a content-addressed blob the store resolved).
  // Errors read "unable to load model: ..." (kInternal).
  Result<ModelFile> get(const std::string& path);

  // Forgets every file that no longer exists on disk (a deleted blob): its mapping is what
  // kept the disk space in use. A runner still serving it keeps its own reference until idle.
  void drop_missing();

 private:
  std::mutex mu_;  // held while parsing: concurrent requests for one new model parse it once
  size_t max_entries_;
  std::list<std::pair<std::string, ModelFile>> entries_;  // most recently used first
};

}  // namespace corral::scheduler
