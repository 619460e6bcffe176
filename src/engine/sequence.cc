#include "engine/sequence.h"

#include <algorithm>

namespace corral::engine {

Status check_token_ids(const std::vector<int32_t>& tokens, int64_t n_vocab) {
  for (int32_t t : tokens)
    if (t < 0 || t >= n_vocab) return Status::errorf("token id {} is out of range", t);
  return Status::ok();
}

Result<std::unique_ptr<Sequence>> make_sequence(SequenceRequest req, const Tokenizer& tok, int64_t n_vocab) {
  auto seq = std::make_unique<Sequence>();
  seq->embedding = req.embedding;
  seq->embed_normalize = req.embed_normalize;
  seq->encoder = req.encoder;
  seq->pooling = req.pooling;
  if (req.encoder && !req.embedding) return Status::error("the model only makes embeddings; it cannot generate text");
  seq->num_ctx = req.num_ctx;
  seq->num_predict = req.num_predict;
  seq->top_logprobs = std::min(req.top_logprobs, kMaxTopLogprobs);
  seq->created = req.created;
  seq->tokens = std::move(req.tokens);
  CORRAL_RETURN_IF_ERROR(check_token_ids(seq->tokens, n_vocab));
  if (seq->tokens.empty()) return Status::error("the prompt is empty");
  const auto n = static_cast<int64_t>(seq->tokens.size());
  if (req.embedding && n > req.num_ctx) {
    // Ollama's runner's wording (its 400 for truncate: false).
    if (!req.embed_truncate) return Status::error("the input length exceeds the context length");
    // An encoder's input was tokenized with [CLS] ... [SEP]; Ollama cuts the text and adds
    // them again, so the cut input still ends in [SEP].
    const int32_t last = seq->tokens.back();
    seq->tokens.resize(static_cast<size_t>(req.num_ctx));
    if (req.encoder && req.num_ctx >= 2) seq->tokens.back() = last;
  }
  if (!req.embedding && n >= req.num_ctx)
    return Status::errorf(
        "the prompt is {} tokens, which leaves no room in the context of {} tokens "
        "(raise num_ctx or shorten the prompt)",
        n, req.num_ctx);
  seq->n_prompt = seq->tokens.size();
  seq->stats.prompt_tokens = static_cast<int64_t>(seq->n_prompt);
  if (!req.embedding) {
    seq->sampler =
        std::make_unique<sampling::Sampler>(req.sampling, static_cast<int>(n_vocab), static_cast<int>(req.num_ctx));
    seq->sampler->accept_prompt(seq->tokens);
    StreamDecoder::Options dopts;
    dopts.render_special = req.render_special;
    seq->decoder = std::make_unique<StreamDecoder>(tok, req.stop, dopts);
  }
  return seq;
}

}  // namespace corral::engine
