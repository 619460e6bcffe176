#include "scheduler/model_files.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>

namespace corral::scheduler {

int64_t trained_context_length(const gguf::GgufFile& f) {
  const gguf::Value* v = f.find(f.string_or("general.architecture", "") + ".context_length");
  if (!v) return 0;
  if (auto u = v->as_uint()) return static_cast<int64_t>(std::min<uint64_t>(*u, INT64_MAX));
  if (auto i = v->as_int()) return std::max<int64_t>(*i, 0);
  return 0;
}

Result<ModelFile> ModelFileCache::get(const std::string& path) {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first != path) continue;
    entries_.splice(entries_.begin(), entries_, it);
    return entries_.front().second;
  }
  // Whatever fails here (a missing or corrupt file, a vocabulary corral cannot read) is the
  // server's failure to load the model (kInternal), as Ollama reports it.
  auto fail = [](const Status& s) { return Status::internal("unable to load model: " + s.message()); };
  auto file = gguf::GgufFile::open(path);
  if (!file) return fail(file.status());
  ModelFile mf;
  mf.file = std::move(file).value();
  mf.context_length = trained_context_length(*mf.file);
  auto tok = Tokenizer::from_gguf(*mf.file);
  if (!tok) return fail(tok.status());
  mf.tokenizer = std::move(tok).value();
  entries_.emplace_front(path, mf);
  if (entries_.size() > max_entries_) entries_.pop_back();
  return mf;
}

void ModelFileCache::drop_missing() {
  std::lock_guard<std::mutex> lk(mu_);
  std::error_code ec;
  entries_.remove_if([&](const auto& e) { return !std::filesystem::exists(e.first, ec); });
}

}  // namespace corral::scheduler
