// corral: an Ollama-compatible LLM server and its command line.
#include <cstdio>

#include "base/log.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  corral::init_logging();
  CLI::App app{"corral: an Ollama-compatible LLM inference server for many users at once"};
  app.set_version_flag("--version,-v", "corral version " CORRAL_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  corral::cli::register_logits(app, exit_code);
  corral::cli::register_synth(app, exit_code);
  corral::cli::register_serve(app, exit_code);
  corral::cli::register_generate(app, exit_code);
  corral::cli::register_tokenize(app, exit_code);
  corral::cli::register_bench(app, exit_code);
  corral::cli::register_tune(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
