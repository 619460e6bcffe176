// Applying a step's outputs with hand-made logits and a real tokenizer: counters, sampling,
// streaming, end-of-generation, num_predict, the context limit, and embeddings.
#include "engine/step_apply.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/test_data.h"
#include "gguf/gguf_file.h"

namespace corral::engine {
namespace {

std::shared_ptr<const Tokenizer> tokenizer() {
  static std::shared_ptr<const Tokenizer> tok = [] {
    auto f = gguf::GgufFile::open(testing::test_data_path("models/stories260K.gguf"));
    EXPECT_TRUE(f.is_ok()) << f.error();
    auto t = Tokenizer::from_gguf(**f);
    EXPECT_TRUE(t.is_ok()) << t.error();
    return t.value();
  }();
  return tok;
}

int64_t n_vocab() { return tokenizer()->n_tokens(); }

std::unique_ptr<Sequence> sequence(std::vector<int32_t> prompt, int64_t num_predict = -1, int64_t num_ctx = 64) {
  SequenceRequest req;
  req.tokens = std::move(prompt);
  req.num_ctx = num_ctx;
  req.num_predict = num_predict;
  req.sampling.temperature = 0;  // greedy: the largest logit wins
  auto s = make_sequence(std::move(req), *tokenizer(), n_vocab());
  EXPECT_TRUE(s.is_ok()) << s.error();
  s.value()->state = Sequence::State::kPrefilling;
  return std::move(s).value();
}

// Logits rows where token `best[i]` wins row i.
std::vector<float> logits_for(const std::vector<int32_t>& best) {
  std::vector<float> l(best.size() * static_cast<size_t>(n_vocab()), 0.0f);
  for (size_t i = 0; i < best.size(); ++i) l[i * static_cast<size_t>(n_vocab()) + static_cast<size_t>(best[i])] = 10.0f;
  return l;
}

// A token that streams as plain text on its own: the first piece of " Once".
int32_t word() {
  auto ids = tokenizer()->encode(" Once", /*add_special=*/false, /*parse_special=*/false);
  EXPECT_FALSE(ids.empty());
  return ids.at(0);
}

// What a fresh detokenizer streams for word().
std::string word_text() {
  StreamDecoder d(*tokenizer(), {});
  std::string t = d.push(word());
  EXPECT_FALSE(t.empty());
  return t;
}

int32_t eog() {
  for (int32_t i = 0; i < n_vocab(); ++i)
    if (tokenizer()->is_eog(i)) return i;
  ADD_FAILURE() << "no end-of-generation token";
  return 0;
}

TEST(StepApply, APromptChunkWithoutOutputOnlyCounts) {
  auto s = sequence({1, 2, 3, 4});
  const StepPlan plan{{{s.get(), 2, Outputs::kNone}}, {}};
  const StepResult r = apply_step(plan, StepOutputs{.n_vocab = n_vocab()}, *tokenizer());
  EXPECT_TRUE(r.outputs.empty());
  EXPECT_EQ(r.prompt_tokens, 2);
  EXPECT_EQ(s->n_fed, 2u);
  EXPECT_EQ(s->state, Sequence::State::kPrefilling);
  EXPECT_EQ(s->stats.prompt_eval_count, 2);
}

TEST(StepApply, TheLastPromptChunkSamplesAndStreamsTheFirstToken) {
  auto s = sequence({1, 2, 3});
  const int32_t once = word();
  const auto logits = logits_for({once});
  const StepPlan plan{{{s.get(), 3, Outputs::kLast}}, {}};
  const StepResult r = apply_step(plan, StepOutputs{.logits = logits.data(), .n_vocab = n_vocab()}, *tokenizer());
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].text, word_text());
  EXPECT_FALSE(r.outputs[0].finished());
  EXPECT_EQ(r.generated, 1);
  EXPECT_EQ(s->state, Sequence::State::kDecoding);
  EXPECT_EQ(s->tokens.back(), once);
  EXPECT_EQ(s->n_fed, 3u) << "the sampled token goes in with the next step";
}

TEST(StepApply, EndOfGenerationFinishesWithStop) {
  auto s = sequence({1, 2});
  s->state = Sequence::State::kDecoding;
  s->n_fed = 1;
  const auto logits = logits_for({eog()});
  const StepPlan plan{{{s.get(), 1, Outputs::kLast}}, {}};
  const StepResult r = apply_step(plan, StepOutputs{.logits = logits.data(), .n_vocab = n_vocab()}, *tokenizer());
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_TRUE(r.outputs[0].finished());
  EXPECT_EQ(s->finish_reason, FinishReason::kStop);
  EXPECT_EQ(r.generated, 0) << "the end token is not output";
}

TEST(StepApply, NumPredictAndAFullContextFinishWithLength) {
  auto budget = sequence({1, 2}, /*num_predict=*/1);
  auto full = sequence({1, 2, 3}, -1, /*num_ctx=*/4);
  const auto logits = logits_for({word(), word()});
  const StepPlan plan{{{budget.get(), 2, Outputs::kLast}, {full.get(), 3, Outputs::kLast}}, {}};
  const StepResult r = apply_step(plan, StepOutputs{.logits = logits.data(), .n_vocab = n_vocab()}, *tokenizer());
  ASSERT_EQ(r.outputs.size(), 2u);
  for (const auto& o : r.outputs) {
    EXPECT_TRUE(o.finished());
    EXPECT_EQ(o.seq->finish_reason, FinishReason::kLength);
    EXPECT_EQ(o.text, word_text()) << "what the detokenizer held back comes out at the end";
  }
}

TEST(StepApply, AnEmbeddingFinishesWithItsNormalisedHiddenState) {
  SequenceRequest req;
  req.embedding = true;
  req.tokens = {1, 2, 3};
  req.num_ctx = 64;
  auto s = make_sequence(std::move(req), *tokenizer(), n_vocab()).value();
  s->state = Sequence::State::kPrefilling;
  // Rows in feed order: the completion's logits row 0, the embedding's hidden row 1.
  auto c = sequence({1, 2});
  const auto logits = logits_for({word(), word()});
  const std::vector<float> hidden = {9, 9, 9, 9, 3, 0, 4, 0};
  const StepPlan plan{{{c.get(), 2, Outputs::kLast}, {s.get(), 3, Outputs::kLast}}, {}};
  const StepResult r =
      apply_step(plan, StepOutputs{.logits = logits.data(), .hidden = hidden.data(), .n_vocab = n_vocab(), .n_embd = 4},
                 *tokenizer());
  ASSERT_EQ(r.outputs.size(), 2u);
  EXPECT_EQ(r.outputs[1].seq, s.get());
  EXPECT_TRUE(r.outputs[1].finished());
  EXPECT_EQ(r.outputs[1].embedding, (std::vector<float>{0.6f, 0.0f, 0.8f, 0.0f}));
}

// An encoder's feed has a row per token (Outputs::kAll), pooled as the model says; rows of the
// feeds before it are skipped by their count.
TEST(StepApply, AnEncoderInputIsPooledOverItsRows) {
  const std::vector<float> hidden = {3, 4, 1, 0, 3, 4, 5, 12};  // [4][2]: another feed's row, then 3 rows
  // Mean (3, 16/3), [CLS] (1, 0), last (5, 12); then L2-normalised.
  const float r337 = std::sqrt(337.0f);
  for (const auto& [pooling, want] : {std::pair{model::Pooling::kMean, std::vector<float>{9 / r337, 16 / r337}},
                                      std::pair{model::Pooling::kCls, std::vector<float>{1, 0}},
                                      std::pair{model::Pooling::kLast, std::vector<float>{5.0f / 13, 12.0f / 13}}}) {
    SequenceRequest req;
    req.embedding = true;
    req.encoder = true;
    req.pooling = pooling;
    req.tokens = {1, 2, 3};
    req.num_ctx = 64;
    auto s = make_sequence(std::move(req), *tokenizer(), n_vocab()).value();
    s->state = Sequence::State::kPrefilling;
    SequenceRequest other_req;  // a decoder's embedding: its last row
    other_req.embedding = true;
    other_req.tokens = {1};
    other_req.num_ctx = 64;
    auto other = make_sequence(std::move(other_req), *tokenizer(), n_vocab()).value();
    other->state = Sequence::State::kPrefilling;
    const StepPlan plan{{{other.get(), 1, Outputs::kLast}, {s.get(), 3, Outputs::kAll}}, {}};
    const StepResult r = apply_step(plan, StepOutputs{.hidden = hidden.data(), .n_embd = 2}, *tokenizer());
    ASSERT_EQ(r.outputs.size(), 2u);
    EXPECT_EQ(r.outputs[0].embedding, (std::vector<float>{0.6f, 0.8f}));
    ASSERT_EQ(r.outputs[1].embedding.size(), 2u);
    EXPECT_NEAR(r.outputs[1].embedding[0], want[0], 1e-6);
    EXPECT_NEAR(r.outputs[1].embedding[1], want[1], 1e-6);
    EXPECT_EQ(r.prompt_tokens, 4);
  }
}

// An encoder only embeds, and an over-long input cut to the context keeps its last token
// (the [SEP] that tokenization added).
TEST(Sequence, AnEncoderInputIsCutKeepingItsSeparator) {
  SequenceRequest req;
  req.encoder = true;
  req.tokens = {1, 5, 6, 7, 2};
  req.num_ctx = 4;
  EXPECT_EQ(make_sequence(req, *tokenizer(), n_vocab()).code(), StatusCode::kInvalidArgument);
  req.embedding = true;
  auto cut = make_sequence(req, *tokenizer(), n_vocab());
  ASSERT_TRUE(cut.is_ok());
  EXPECT_EQ((*cut)->tokens, (std::vector<int32_t>{1, 5, 6, 2}));
}

TEST(Sequence, BadPromptsAreTheCallersErrors) {
  SequenceRequest req;
  req.num_ctx = 8;
  req.tokens = {1, static_cast<int32_t>(n_vocab())};
  EXPECT_EQ(make_sequence(req, *tokenizer(), n_vocab()).error(), fmt::format("token id {} is out of range", n_vocab()));
  req.tokens = {};
  EXPECT_EQ(make_sequence(req, *tokenizer(), n_vocab()).code(), StatusCode::kInvalidArgument);
  req.tokens.assign(8, 1);
  EXPECT_NE(make_sequence(req, *tokenizer(), n_vocab()).error().find("leaves no room"), std::string::npos);
  req.embedding = true;
  req.tokens.assign(12, 1);
  auto cut = make_sequence(req, *tokenizer(), n_vocab());
  ASSERT_TRUE(cut.is_ok());
  EXPECT_EQ((*cut)->n_prompt, 8u);
  req.embed_truncate = false;
  EXPECT_EQ(make_sequence(req, *tokenizer(), n_vocab()).error(), "the input length exceeds the context length");
}

}  // namespace
}  // namespace corral::engine
