#include "engine/engine.h"

#include <unordered_set>

namespace corral::engine {

Engine::Engine(std::shared_ptr<const model::Model> model, EngineConfig config, ThreadPool& pool)
    : model_(std::move(model)), pool_(pool), kv_(*model_, config.kv_capacity_tokens, config.kv_type),
      scratch_(model_->make_scratch()) {}

Status Engine::eval(const std::vector<SeqFeed>& feeds, std::vector<float>* logits,
                    std::vector<float>* hidden) {
  const int64_t n_vocab = model_->config().n_vocab;
  // Validate everything before changing anything.
  int64_t blocks = 0;
  std::unordered_set<SeqId> seen;
  for (const SeqFeed& f : feeds) {
    if (!kv_.exists(f.seq)) return Status::errorf("unknown sequence {}", f.seq);
    if (!seen.insert(f.seq).second) return Status::errorf("sequence {} fed twice in one step", f.seq);
    for (int32_t t : f.tokens)
      if (t < 0 || t >= n_vocab) return Status::errorf("token id {} is out of range [0, {})", t, n_vocab);
    blocks += kv_.blocks_needed(f.seq, static_cast<int64_t>(f.tokens.size()));
  }
  if (blocks > kv_.free_blocks())
    return Status::errorf("KV cache full: this step needs {} blocks, {} of {} free", blocks,
                          kv_.free_blocks(), kv_.capacity_blocks());
  for (const SeqFeed& f : feeds) {
    Status s = kv_.prepare_append(f.seq, static_cast<int64_t>(f.tokens.size()));
    if (!s) return s;  // cannot happen after the check above
  }

  batch_.tokens.clear();
  batch_.seqs.clear();
  for (size_t si = 0; si < feeds.size(); ++si) {
    const SeqFeed& f = feeds[si];
    const std::vector<int32_t>& bl = kv_.blocks(f.seq);
    batch_.seqs.push_back(model::BatchSeq{bl.data(), static_cast<int32_t>(bl.size())});
    const int64_t start = kv_.length(f.seq);
    const size_t n = f.tokens.size();
    for (size_t j = 0; j < n; ++j) {
      const bool out = f.outputs == Outputs::kAll || (f.outputs == Outputs::kLast && j + 1 == n);
      batch_.tokens.push_back(model::BatchToken{f.tokens[j], static_cast<int32_t>(start + j),
                                                static_cast<int32_t>(si), out});
    }
  }
  const int64_t n_out = batch_.n_outputs();
  model::ForwardOutput out;
  if (logits) {
    logits->resize(static_cast<size_t>(n_out * n_vocab));
    out.logits = logits->data();
  }
  if (hidden) {
    hidden->resize(static_cast<size_t>(n_out * model_->config().n_embd));
    out.hidden = hidden->data();
  }
  model_->forward(batch_, kv_.storage(), out, *scratch_, pool_);
  for (const SeqFeed& f : feeds) kv_.commit_append(f.seq, static_cast<int64_t>(f.tokens.size()));
  return Status::ok();
}

}  // namespace corral::engine
