// corral: an Ollama-compatible LLM server and its command line.
#include <cstdio>

#include "base/log.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  corral::init_logging();
  CLI::App app{"corral: an Ollama-compatible LLM inference server for many users at once"};
  corral::cli::register_version(app);
  app.require_subcommand(1);
  int exit_code = 0;
  corral::cli::register_logits(app, exit_code);
  corral::cli::register_synth(app, exit_code);
  corral::cli::register_serve(app, exit_code);
  corral::cli::register_run(app, exit_code);
  corral::cli::register_pull(app, exit_code);
  corral::cli::register_push(app, exit_code);
  corral::cli::register_list(app, exit_code);
  corral::cli::register_ps(app, exit_code);
  corral::cli::register_show(app, exit_code);
  corral::cli::register_stop(app, exit_code);
  corral::cli::register_rm(app, exit_code);
  corral::cli::register_cp(app, exit_code);
  corral::cli::register_create(app, exit_code);
  corral::cli::register_help(app);
  corral::cli::register_generate(app, exit_code);
  corral::cli::register_tokenize(app, exit_code);
  corral::cli::register_bench(app, exit_code);
  corral::cli::register_tune(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) { return app.exit(e); }
  return exit_code;
}
