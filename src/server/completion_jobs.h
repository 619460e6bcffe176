// The parts of a completion job every API family builds the same way: the options layered over
// the model's PARAMETERs, the stop sequences, and the prepare step that renders the prompt
// through the model's template with its tokenizer, on the request's thread before the job is
// queued. Ollama's /api/chat and
// /api/generate and OpenAI's /v1/chat/completions and /v1/completions differ only in how they
// read the request and write the response.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "scheduler/job.h"
#include "server/api_context.h"
#include "server/model_resolver.h"
#include "server/request_options.h"
#include "templates/chat_template.h"

namespace corral::server {

// The model's PARAMETERs (a broken one is kInternal: the server's fault), then the request's
// options (kInvalidArgument).
Result<RequestOptions> options_for(const ServedModel& m, const nlohmann::ordered_json& request_options);

// Renders and tokenizes a prompt for a context of num_ctx tokens; `rendered` (may be null)
// receives the prompt text the tokens spell (empty in raw mode).
using PrepareFn =
    std::function<Result<scheduler::PreparedPrompt>(const Tokenizer& tok, int64_t num_ctx, std::string* rendered)>;

// Prepares `job` here, on the request's thread: the model's tokenizer (a model file that cannot
// be read keeps its code: kInternal, a 500), the prompt for the context the job will get and the
// structured-output filter (either failing is kInvalidArgument: the request's 400).
// `rendered_prompt`, when given, receives the prompt text (the output parser reads its end).
Status prepare_job(ApiContext& ctx, const ServedModel& m, scheduler::Job& job, const PrepareFn& prepare,
                   const FilterFactory& filter, std::string* rendered_prompt = nullptr);

// The request's stops when it set any (even an empty list), else the template family's.
std::vector<std::string> stops_for(const RequestOptions& opts, const ServedModel& m);

// A chat's prepare step. The model's MESSAGEs come first; its SYSTEM prompt applies when the
// chat brings none; the oldest messages are dropped to fit num_ctx (prompt_builder.h).
PrepareFn chat_prepare(const ServedModel& m, const std::vector<ChatMessage>& messages, nlohmann::json tools,
                       ThinkOption think, std::vector<std::string> stops);

// What a generate-style request asks to complete.
// Default member initializers let callers name only the fields they set.
struct GeneratePrompt {
  std::string prompt = {};
  std::string suffix = {};            // non-empty: fill-in-the-middle
  std::string system = {};            // already defaulted to the model's SYSTEM by the caller
  std::vector<int32_t> context = {};  // tokens of an earlier exchange (Ollama's `context`)
  bool raw = false;                   // the prompt is the whole model input, specials included
  ThinkOption think = {};
};

// A generate request's prepare step, rendering through `tmpl` (the model's or an override).
PrepareFn generate_prepare(GeneratePrompt prompt, std::shared_ptr<const GoTemplate> tmpl,
                           std::vector<std::string> stops);

}  // namespace corral::server
