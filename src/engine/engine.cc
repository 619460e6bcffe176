#include "engine/engine.h"

#include <algorithm>

#include "base/check.h"

namespace corral::engine {

Engine::Engine(std::shared_ptr<const model::Model> model, EngineConfig config, ThreadPool& pool)
    : model_(std::move(model)),
      pool_(pool),
      kv_(*model_, kv_sizing(config), config.kv_type),
      scratch_(model_->make_scratch()) {}

void Engine::eval(const std::vector<SeqFeed>& feeds, std::vector<float>* logits, std::vector<float>* hidden) {
  const int64_t n_vocab = model_->config().n_vocab;
  // Token ids were checked when their sequence was admitted, and the step plan left room in
  // the pool; a failure here is a bug in the caller.
  for (const SeqFeed& f : feeds) {
    CORRAL_DCHECK(std::all_of(f.tokens.begin(), f.tokens.end(), [&](int32_t t) { return t >= 0 && t < n_vocab; }),
                  "token id out of range in sequence {}", f.seq);
    Status s = kv_.prepare_append(f.seq, static_cast<int64_t>(f.tokens.size()));
    CORRAL_CHECK(s.is_ok(), "{} (the step plan must leave room)", s.message());
  }

  batch_.tokens.clear();
  batch_.seqs.clear();
  for (size_t si = 0; si < feeds.size(); ++si) {
    const SeqFeed& f = feeds[si];
    model::BatchSeq bs;
    for (int64_t g = 0; g < kv_.n_groups(); ++g) bs.blocks[static_cast<size_t>(g)] = kv_.blocks(f.seq, g).data();
    bs.n_blocks = static_cast<int32_t>(kv_.blocks(f.seq).size());
    batch_.seqs.push_back(bs);
    const int64_t start = kv_.length(f.seq);
    const size_t n = f.tokens.size();
    for (size_t j = 0; j < n; ++j) {
      const bool out = f.outputs == Outputs::kAll || (f.outputs == Outputs::kLast && j + 1 == n);
      batch_.tokens.push_back(
          model::BatchToken{f.tokens[j], static_cast<int32_t>(start + j), static_cast<int32_t>(si), out});
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
}

}  // namespace corral::engine
