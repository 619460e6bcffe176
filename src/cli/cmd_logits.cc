// corral logits: prints a prompt's token ids (JSON array) and writes the logits of every prompt
// position as raw little-endian float32, row-major [n_tokens][n_vocab] (the layout of
// ../shared/reference/*.logits.f32).
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "base/thread_pool.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "engine/engine.h"
#include "engine/sequence.h"
#include "model/model.h"

namespace corral::cli {

void register_logits(CLI::App& app, int& exit_code) {
  struct Opts {
    LocalModelOptions m;
    std::string tokens, out;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("logits", "Write the logits of every prompt position");
  add_local_model_options(cmd, o->m);
  cmd->add_option("--tokens", o->tokens, "prompt token ids, comma-separated")->required();
  cmd->add_option("--out,-o", o->out, "output file (raw float32 [n_tokens][n_vocab])")->required();
  cmd->callback([o, &exit_code] {
    if (o->m.threads > 0) ThreadPool::set_global_threads(o->m.threads);
    std::vector<int32_t> tokens;
    if (!parse_token_list(o->tokens, &tokens)) {
      fmt::print(stderr, "Error: --tokens must be comma-separated integers\n");
      exit_code = 1;
      return;
    }
    auto model = model::load_model(o->m.model_path);
    if (!model) {
      fmt::print(stderr, "Error: {}\n", model.error());
      exit_code = 1;
      return;
    }
    if (!model.value()->config().causal) {
      fmt::print(stderr, "Error: this model only makes embeddings; it has no logits\n");
      exit_code = 1;
      return;
    }
    engine::Engine eng(model.value(), engine::EngineConfig{static_cast<int64_t>(tokens.size())}, ThreadPool::global());
    std::vector<float> logits;
    if (Status s = engine::check_token_ids(tokens, model.value()->config().n_vocab); !s) {
      fmt::print(stderr, "Error: {}\n", s.message());
      exit_code = 1;
      return;
    }
    eng.eval({{eng.kv().create(), tokens, engine::Outputs::kAll}}, &logits);
    std::ofstream f(o->out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(logits.size() * sizeof(float)));
    if (!f) {
      fmt::print(stderr, "Error: cannot write {}\n", o->out);
      exit_code = 1;
      return;
    }
    fmt::print("[{}]\n", fmt::join(tokens, ","));
  });
}

}  // namespace corral::cli
