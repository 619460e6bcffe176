// corral cp SOURCE DESTINATION: copies a model (its manifest), as `ollama cp`.
#include <fmt/format.h>

#include "cli/client.h"
#include "cli/commands.h"

namespace corral::cli {

void register_cp(CLI::App& app, int& exit_code) {
  auto names = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* cmd = app.add_subcommand("cp", "Copy a model");
  cmd->add_option("source", names->first, "Model to copy")->required();
  cmd->add_option("destination", names->second, "New name")->required();
  cmd->callback([names, &exit_code] {
    auto c = Client::from_env();
    if (!c) {
      exit_code = fail(c.status());
      return;
    }
    auto r = c->call("POST", "/api/copy", ordered_json{{"source", names->first}, {"destination", names->second}});
    if (!r) {
      exit_code = fail(r.status());
      return;
    }
    fmt::print("copied '{}' to '{}'\n", names->first, names->second);
  });
}

}  // namespace corral::cli
