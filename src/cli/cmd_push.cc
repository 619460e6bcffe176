// corral push MODEL: uploads a model through the server's /api/push, drawing its progress, and
// says where the model went, as `ollama push`.
#include <fmt/format.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "store/model_name.h"

namespace corral::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void register_push(CLI::App& app, int& exit_code) {
  struct Opts {
    std::string model;
    bool insecure = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("push", "Push a model to a registry");
  cmd->add_option("model", o->model, "Model name")->required();
  cmd->add_flag("--insecure", o->insecure, "Use an insecure registry");
  cmd->callback([o, &exit_code] {
    auto c = Client::from_env();
    if (!c) {
      exit_code = fail(c.status());
      return;
    }
    InterruptScope scope;
    Status s;
    {
      Progress p;
      ordered_json req{{"model", o->model}};
      if (o->insecure) req["insecure"] = true;
      s = c->stream("/api/push", req, [&p](const json& r) {
        p.record(r, "pushing");
        return true;
      });
    }
    if (!s) {
      // Ollama's hint for a registry that refused the namespace.
      exit_code =
          s.message().find("access denied") != std::string::npos
              ? fail("you are not authorized to push to this namespace, create the model under a namespace you own")
              : fail(s);
      return;
    }
    std::string destination = o->model;
    if (auto n = store::ModelName::parse(o->model)) {
      destination = n->full();
      if (ends_with(n->host, ".ollama.ai") || ends_with(n->host, ".ollama.com")) {
        std::string shortest = n->display();
        if (ends_with(shortest, ":latest")) shortest.resize(shortest.size() - 7);
        destination = "https://ollama.com/" + shortest;
      }
    }
    fmt::print("\nYou can find your model at:\n\n\t{}\n", destination);
  });
}

}  // namespace corral::cli
