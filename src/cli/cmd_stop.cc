// corral stop MODEL: unloads a running model (keep_alive 0), as `ollama stop`.
#include <fmt/format.h>

#include "cli/client_ops.h"
#include "cli/commands.h"

namespace corral::cli {

void register_stop(CLI::App& app, int& exit_code) {
  auto model = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("stop", "Stop a running model");
  cmd->add_option("model", *model, "Model name")->required();
  cmd->callback([model, &exit_code] {
    auto c = Client::from_env();
    if (!c) {
      exit_code = fail(c.status());
      return;
    }
    Status s = load_or_unload(*c, *model, "0");
    if (!s) {
      exit_code =
          s.is(StatusCode::kNotFound) ? fail(fmt::format("couldn't find model \"{}\" to stop", *model)) : fail(s);
    }
  });
}

}  // namespace corral::cli
