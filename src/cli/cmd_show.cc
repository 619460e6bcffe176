// corral show MODEL [--license|--modelfile|--parameters|--system|--template]: as `ollama show`.
#include <fmt/format.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/show_info.h"

namespace corral::cli {

void register_show(CLI::App& app, int& exit_code) {
  struct Opts {
    std::string model;
    bool license = false, modelfile = false, parameters = false, system = false, template_ = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("show", "Show information for a model");
  cmd->add_option("model", o->model, "Model name")->required();
  cmd->add_flag("--license", o->license, "Show license of a model");
  cmd->add_flag("--modelfile", o->modelfile, "Show Modelfile of a model");
  cmd->add_flag("--parameters", o->parameters, "Show parameters of a model");
  cmd->add_flag("--template", o->template_, "Show template of a model");
  cmd->add_flag("--system", o->system, "Show system message of a model");
  cmd->callback([o, &exit_code] {
    if (o->license + o->modelfile + o->parameters + o->system + o->template_ > 1) {
      exit_code =
          fail("only one of '--license', '--modelfile', '--parameters', '--system', or '--template' can be specified");
      return;
    }
    auto c = Client::from_env();
    if (!c) {
      exit_code = fail(c.status());
      return;
    }
    auto r = c->call("POST", "/api/show", ordered_json{{"model", o->model}});
    if (!r) {
      exit_code = fail(r.status());
      return;
    }
    const json& s = *r;
    // Ollama prints the multi-line texts with a newline, the template and system as they are.
    if (o->license) fmt::print("{}\n", s.value("license", ""));
    else if (o->modelfile) fmt::print("{}\n", s.value("modelfile", ""));
    else if (o->parameters) fmt::print("{}\n", s.value("parameters", ""));
    else if (o->system) fmt::print("{}", s.value("system", ""));
    else if (o->template_) fmt::print("{}", s.value("template", ""));
    else fmt::print("{}", render_show_info(s));
  });
}

}  // namespace corral::cli
