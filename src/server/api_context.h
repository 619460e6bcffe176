// What every API handler needs: the model store, the resolver, the scheduler, and shared
// per-model state built lazily (vocabulary tries for structured output).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "sampling/json_schema.h"
#include "sampling/token_filter.h"
#include "sampling/token_trie.h"
#include "scheduler/scheduler.h"
#include "server/api_common.h"
#include "server/background_jobs.h"
#include "server/health.h"
#include "server/model_resolver.h"
#include "store/store.h"

namespace corral::server {

// Builds a job's structured-output filter with the model's tokenizer (nullptr: unconstrained).
using FilterFactory = std::function<Result<std::unique_ptr<sampling::TokenFilter>>(const Tokenizer& tok)>;

class ApiContext {
 public:
  ApiContext(store::Store& store, scheduler::Scheduler& scheduler)
      : store(store), scheduler(scheduler), resolver(store) {}

  store::Store& store;
  scheduler::Scheduler& scheduler;
  ModelResolver resolver;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  Health health;  // what GET /health answers: preloads, draining

  // A job filter factory for `program` (nullptr program: none). The vocabulary trie is built
  // once per model file and shared by every request.
  FilterFactory filter_factory(const std::string& model_key, std::shared_ptr<const sampling::JsonProgram> program);

 private:
  std::shared_ptr<const sampling::TokenTrie> trie_for(const std::string& model_key, const Tokenizer& tok);
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const sampling::TokenTrie>> tries_;

 public:
  // Slow work of request handlers (model creation, blob uploads). Declared last so it is
  // destroyed - its running jobs joined - first, while everything they use is still alive.
  BackgroundJobs jobs;
};

// Resolves a request's model name; on failure answers the error in `shape` (400 an invalid name,
// 404 a model not in the store with the shape's model_not_found_code, 500 store trouble) and
// returns nullopt.
std::optional<ServedModel> resolve_or_respond(ApiContext& ctx, const ErrorShape& shape, const std::string& name,
                                              const Writer& w);

}  // namespace corral::server
