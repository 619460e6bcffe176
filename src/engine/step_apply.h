// Applies one engine step's outputs to the sequences it fed (like vLLM v1's
// update_from_output()): counts the fed tokens, samples each completion's next token, streams
// it through the detokenizer, checks end-of-generation, stop sequences, num_predict and the
// context, and finishes embeddings with their (normalised) pooled hidden states: the last
// token's for a decoder, every token's mean (or [CLS]'s) for an encoder.
#pragma once

#include <string>
#include <vector>

#include "engine/step_plan.h"
#include "tokenizer/tokenizer.h"

namespace corral::engine {

// What one step produced, in plan order.
struct StepOutputs {
  // Both have one row per requested output, in feed order (Engine::eval); each is null when no
  // feed of its kind asked for an output.
  const float* logits = nullptr;  // [n_outputs, n_vocab]
  const float* hidden = nullptr;  // [n_outputs, n_embd]
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  Clock::duration eval_time{};  // the forward pass's wall time
};

// What a sequence has to report after the step.
struct SequenceOutput {
  Sequence* seq = nullptr;
  std::string text;                    // the next chunk of output (may be empty)
  std::vector<float> embedding;        // a finished embedding's vector
  std::vector<TokenLogprob> logprobs;  // the tokens generated in this step, when asked
  bool finished() const { return seq->state == Sequence::State::kFinished; }
};

struct StepResult {
  std::vector<SequenceOutput> outputs;  // one per feed that produced text or finished
  int64_t prompt_tokens = 0;            // prompt tokens evaluated in this step
  int64_t generated = 0;                // tokens generated in this step
};

StepResult apply_step(const StepPlan& plan, const StepOutputs& out, const Tokenizer& tok);

// One embedding from a sequence's hidden-state rows ([n_rows][n_embd], in position order).
std::vector<float> pool_hidden(const float* rows, int64_t n_rows, int64_t n_embd, model::Pooling pooling);

// Scales v to unit length (a zero vector stays zero).
void normalize(std::vector<float>& v);

// What a completion still owes when it ends before the model chose to: the text the
// detokenizer holds back, plus, under structured output, the fewest bytes that complete the
// value, so the text still parses.
std::string closing_text(Sequence& s);

}  // namespace corral::engine
