// Each `corral <command>` registers itself on the CLI11 app; main.cc lists them.
#pragma once

#include <CLI/CLI.hpp>

namespace corral::cli {

// Every register_* adds one subcommand whose callback sets the process exit code through
// `exit_code` (0 success, 1 failure).
void register_logits(CLI::App& app, int& exit_code);
void register_synth(CLI::App& app, int& exit_code);
void register_serve(CLI::App& app, int& exit_code);
// The client commands (talk to the running server over HTTP, at OLLAMA_HOST), as Ollama's.
void register_run(CLI::App& app, int& exit_code);
void register_pull(CLI::App& app, int& exit_code);
void register_push(CLI::App& app, int& exit_code);
void register_list(CLI::App& app, int& exit_code);  // also `ls`
void register_ps(CLI::App& app, int& exit_code);
void register_show(CLI::App& app, int& exit_code);
void register_stop(CLI::App& app, int& exit_code);
void register_rm(CLI::App& app, int& exit_code);
void register_cp(CLI::App& app, int& exit_code);
void register_create(CLI::App& app, int& exit_code);
void register_help(CLI::App& app);
// --version/-v: the client's and the running server's version.
void register_version(CLI::App& app);
void register_generate(CLI::App& app, int& exit_code);
void register_tokenize(CLI::App& app, int& exit_code);  // also detokenize
void register_bench(CLI::App& app, int& exit_code);     // load generator (bench_*.h)
void register_tune(CLI::App& app, int& exit_code);      // parallelism sweep and settings (tune_*.h)

}  // namespace corral::cli
