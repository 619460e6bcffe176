// corral rm MODEL [MODEL...]: unloads and deletes models, as `ollama rm`.
#include <fmt/format.h>

#include "cli/client_ops.h"
#include "cli/commands.h"

namespace corral::cli {

void register_rm(CLI::App& app, int& exit_code) {
  auto models = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("rm", "Remove a model");
  cmd->add_option("models", *models, "Model names")->required();
  cmd->callback([models, &exit_code] {
    auto c = Client::from_env();
    if (!c) {
      exit_code = fail(c.status());
      return;
    }
    for (const std::string& name : *models) {
      // A loaded model is stopped first so its memory goes with it.
      if (Status s = load_or_unload(*c, name, "0"); !s) {
        if (s.is(StatusCode::kUnavailable)) {  // no server: deleting would fail the same way
          exit_code = fail(s);
          return;
        }
        if (!s.is(StatusCode::kNotFound)) fmt::print(stderr, "Warning: unable to stop model '{}'\n", name);
      }
      auto r = c->call("DELETE", "/api/delete", ordered_json{{"model", name}});
      if (!r) {
        exit_code = fail(r.status());
        return;
      }
      fmt::print("deleted '{}'\n", name);
    }
  });
}

}  // namespace corral::cli
