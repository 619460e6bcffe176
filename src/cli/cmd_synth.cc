// corral synth: writes a random-weight model of a given shape and quant type (benchmarks at
// realistic sizes without downloads), e.g.
//   corral synth --preset llama3.2-1b --type q4_k_m --vocab ../shared/vocab/ggml-vocab-llama-bpe.gguf -o 1b.gguf
//   corral synth --preset qwen3-1.7b --type q4_k_m --vocab ../shared/vocab/ggml-vocab-qwen2.gguf -o q3.gguf
#include <fmt/format.h>

#include "base/thread_pool.h"
#include "cli/commands.h"
#include "tools/synthetic.h"

namespace corral::cli {

void register_synth(CLI::App& app, int& exit_code) {
  struct Opts {
    model::SynthSpec spec;
    std::string preset = "llama3.2-1b", type = "q4_k_m", out, arch;
    int64_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0, head_dim = 0, n_vocab = 0;
    int64_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0;
    bool untied = false, no_rope_scaling = false;
    int threads = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a random-weight GGUF model of a given shape (for benchmarks)");
  cmd->add_option("--preset", o->preset,
                  "llama3.2-1b | llama3.2-3b | gemma3-1b | qwen3-1.7b | qwen3moe-30b-a3b-slim | tiny | qwen3-tiny | "
                  "qwen3moe-tiny | gemma3-tiny")
      ->capture_default_str();
  cmd->add_option("--type", o->type, "q4_k_m | q5_k_m | q8_0 | q4_0 | f16 | ... (any supported type)")
      ->capture_default_str();
  cmd->add_option("--arch", o->arch, "llama | qwen2 | qwen3 | qwen3moe | gemma3 (default: the preset's)");
  cmd->add_option("--vocab", o->spec.vocab_path, "GGUF to copy the tokenizer from (default: a byte vocabulary)");
  cmd->add_option("--n-vocab", o->n_vocab,
                  "size of the byte vocabulary when no --vocab (default: the preset's, or 512)");
  cmd->add_option("--n-embd", o->n_embd, "override the preset's embedding size");
  cmd->add_option("--n-layer", o->n_layer, "override the preset's layer count");
  cmd->add_option("--n-head", o->n_head, "override the preset's head count");
  cmd->add_option("--n-head-kv", o->n_head_kv, "override the preset's KV head count");
  cmd->add_option("--n-ff", o->n_ff, "override the preset's feed-forward size");
  cmd->add_option("--head-dim", o->head_dim, "override the preset's head size (default n_embd / n_head)");
  cmd->add_option("--n-expert", o->n_expert, "override the preset's expert count (qwen3moe)");
  cmd->add_option("--n-expert-used", o->n_expert_used, "override the preset's experts per token (qwen3moe)");
  cmd->add_option("--n-ff-exp", o->n_ff_exp, "override the preset's expert feed-forward size (qwen3moe)");
  cmd->add_flag("--untied", o->untied, "separate output matrix instead of tied embeddings (default: the preset's)");
  cmd->add_flag("--no-rope-scaling", o->no_rope_scaling, "omit Llama-3 rope_freqs");
  cmd->add_option("--seed", o->spec.seed, "random seed")->capture_default_str();
  cmd->add_option("--threads,-t", o->threads, "threads (default: physical cores)");
  cmd->add_option("--out,-o", o->out, "output GGUF path")->required();
  cmd->callback([o, &exit_code] {
    if (o->threads > 0) ThreadPool::set_global_threads(o->threads);
    model::SynthSpec& s = o->spec;
    if (!model::synth_preset(o->preset, &s)) {
      fmt::print(stderr, "Error: unknown preset '{}'\n", o->preset);
      exit_code = 1;
      return;
    }
    if (!model::parse_synth_type(o->type, &s)) {
      fmt::print(stderr, "Error: unknown or unsupported type '{}'\n", o->type);
      exit_code = 1;
      return;
    }
    if (!o->arch.empty()) s.arch = o->arch;
    if (o->n_embd) s.n_embd = o->n_embd;
    if (o->n_layer) s.n_layer = o->n_layer;
    if (o->n_head) s.n_head = o->n_head;
    if (o->n_head_kv) s.n_head_kv = o->n_head_kv;
    if (o->n_ff) s.n_ff = o->n_ff;
    if (o->head_dim) s.head_dim = o->head_dim;
    if (o->n_vocab) s.n_vocab = o->n_vocab;
    if (o->n_expert) s.n_expert = o->n_expert;
    if (o->n_expert_used) s.n_expert_used = o->n_expert_used;
    if (o->n_ff_exp) s.n_ff_exp = o->n_ff_exp;
    if (o->untied) s.tied_embeddings = false;
    s.llama3_rope_scaling = !o->no_rope_scaling && s.arch == "llama";
    if (s.arch.rfind("qwen", 0) == 0) s.rope_base = 1000000.0f;  // Qwen2 and Qwen3 train with theta 1e6
    s.name = fmt::format("synthetic-{}-{}", o->preset, o->type);
    Status st = model::write_synthetic_model(s, o->out);
    if (!st) {
      fmt::print(stderr, "Error: {}\n", st.message());
      exit_code = 1;
      return;
    }
    fmt::print("wrote {}\n", o->out);
  });
}

}  // namespace corral::cli
