#include "server/api_context.h"

#include "sampling/json_token_filter.h"
#include "server/status_http.h"

namespace corral::server {

std::shared_ptr<const sampling::TokenTrie> ApiContext::trie_for(const std::string& model_key, const Tokenizer& tok) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = tries_.find(model_key);
  if (it != tries_.end() && it->second->n_vocab() == tok.n_tokens()) return it->second;
  std::vector<std::string> bytes(static_cast<size_t>(tok.n_tokens()));
  for (int32_t id = 0; id < tok.n_tokens(); ++id) bytes[id] = tok.token_bytes(id);
  auto trie = std::make_shared<const sampling::TokenTrie>(bytes);
  if (tries_.size() > 16) tries_.clear();  // a few models at a time; rebuilding is cheap enough
  tries_[model_key] = trie;
  return trie;
}

FilterFactory ApiContext::filter_factory(const std::string& model_key,
                                         std::shared_ptr<const sampling::JsonProgram> program) {
  if (!program) return nullptr;
  return [this, model_key, program](const Tokenizer& tok) -> Result<std::unique_ptr<sampling::TokenFilter>> {
    // The vocabulary lists its end tokens once; no rescan of every id per request.
    std::unique_ptr<sampling::TokenFilter> f =
        std::make_unique<sampling::JsonTokenFilter>(trie_for(model_key, tok), program, tok.vocab().eog_ids());
    return f;
  };
}

std::optional<ServedModel> resolve_or_respond(ApiContext& ctx, const ErrorShape& shape, const std::string& name,
                                              const Writer& w) {
  auto resolved = ctx.resolver.resolve(name);
  if (!resolved) {
    const char* code = resolved.code() == StatusCode::kNotFound ? shape.model_not_found_code : nullptr;
    respond_error(w, shape, http_status_for(resolved.code()), resolved.error(), code);
    return std::nullopt;
  }
  return std::move(resolved).value();
}

}  // namespace corral::server
