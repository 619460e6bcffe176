// corral generate: runs a GGUF file directly (no server): tokenizes the prompt, evaluates it
// and samples a continuation, printing it as it is generated. Greedy at temperature 0.
#include <cstdio>

#include <fmt/format.h>

#include "base/thread_pool.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "engine/engine.h"
#include "engine/sequence.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "sampling/sampler.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace corral::cli {

void register_generate(CLI::App& app, int& exit_code) {
  struct Opts {
    LocalModelOptions m;
    std::string prompt, tokens;
    int64_t num_predict = 128;
    float temperature = 0.0f;
    int64_t seed = -1;
    bool no_bos = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with a GGUF model file (no server)");
  add_local_model_options(cmd, o->m);
  cmd->add_option("--prompt,-p", o->prompt, "prompt text");
  cmd->add_option("--tokens", o->tokens, "prompt token ids, comma-separated (instead of --prompt)");
  cmd->add_option("--num-predict,-n", o->num_predict, "tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "0 = greedy")->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed (-1: random)")->capture_default_str();
  cmd->add_flag("--no-bos", o->no_bos, "do not add the BOS token");
  cmd->callback([o, &exit_code] {
    auto fail = [&](const std::string& msg) {
      fmt::print(stderr, "Error: {}\n", msg);
      exit_code = 1;
    };
    if (o->m.threads > 0) ThreadPool::set_global_threads(o->m.threads);
    auto file = gguf::GgufFile::open(o->m.model_path);
    if (!file) return fail(file.error());
    std::shared_ptr<const gguf::GgufFile> gf = std::move(file).value();
    auto model = model::load_model(gf);
    if (!model) return fail(model.error());
    if (!model.value()->config().causal) return fail("this model only makes embeddings; it cannot generate text");
    auto tok = Tokenizer::from_gguf(*gf);
    if (!tok) return fail(tok.error());
    std::vector<int32_t> ids;
    if (!o->tokens.empty()) {
      if (!parse_token_list(o->tokens, &ids)) return fail("--tokens must be comma-separated integers");
    } else {
      ids = (*tok)->encode(o->prompt, !o->no_bos, /*parse_special=*/false);
    }
    if (ids.empty()) return fail("empty prompt");
    sampling::SamplingParams sp;
    sp.temperature = o->temperature;
    sp.seed = o->seed;
    sp.repeat_penalty = 1.0f;  // plain sampling, comparable with llama.cpp's defaults-off runs
    if (Status s = sampling::validate(sp); !s) return fail(s.message());
    const int64_t n_vocab = (*model)->config().n_vocab;
    if (Status s = engine::check_token_ids(ids, n_vocab); !s) return fail(s.message());
    engine::Engine eng(*model, engine::EngineConfig{static_cast<int64_t>(ids.size()) + o->num_predict + 1},
                       ThreadPool::global());
    const engine::SeqId seq = eng.kv().create();
    sampling::Sampler sampler(sp, static_cast<int>(n_vocab));
    sampler.accept_prompt(ids);
    StreamDecoder decoder(**tok, {});
    std::vector<float> logits;
    std::vector<int32_t> feed = ids;
    for (int64_t i = 0; i < o->num_predict; ++i) {
      eng.eval({{seq, feed, engine::Outputs::kLast}}, &logits);
      const int32_t t = sampler.sample(logits.data());
      sampler.accept(t);
      if ((*tok)->is_eog(t)) break;
      fmt::print("{}", decoder.push(t));
      std::fflush(stdout);
      feed = {t};
    }
    fmt::print("{}\n", decoder.finish());
  });
}

}  // namespace corral::cli
