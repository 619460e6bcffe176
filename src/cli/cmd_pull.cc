// corral pull MODEL: downloads a model through the server's /api/pull, drawing its progress
// (a bar per layer on a terminal, plain lines otherwise), as `ollama pull`.
#include "cli/client_ops.h"
#include "cli/commands.h"
#include "cli/interrupt.h"

namespace corral::cli {

void register_pull(CLI::App& app, int& exit_code) {
  struct Opts {
    std::string model;
    bool insecure = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("pull", "Pull a model from a registry");
  cmd->add_option("model", o->model, "Model name")->required();
  cmd->add_flag("--insecure", o->insecure, "Use an insecure registry");
  cmd->callback([o, &exit_code] {
    auto c = Client::from_env();
    if (!c) {
      exit_code = fail(c.status());
      return;
    }
    InterruptScope scope;  // Ctrl-C ends the transfer (the server stops the pull)
    if (Status s = pull_with_progress(*c, o->model, o->insecure); !s) exit_code = fail(s);
  });
}

}  // namespace corral::cli
