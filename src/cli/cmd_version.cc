// corral --version / -v: the client's version and, when a server answers, the server's - as
// `ollama --version` reports both.
#include <fmt/format.h>

#include "cli/client.h"
#include "cli/commands.h"

namespace corral::cli {

void print_version() {
  std::string server;
  if (auto c = Client::from_env()) {
    if (auto r = c->call("GET", "/api/version"); r && r->is_object()) server = r->value("version", "");
  }
  if (server.empty()) fmt::print("Warning: could not connect to a running corral instance\n");
  else fmt::print("corral version is {}\n", server);
  if (server != CORRAL_VERSION) fmt::print("Warning: client version is {}\n", CORRAL_VERSION);
}

void register_version(CLI::App& app) {
  app.add_flag_callback(
         "--version,-v",
         [] {
           print_version();
           throw CLI::Success();  // handled by main: exit 0 without running a command
         },
         "Show version information")
      ->trigger_on_parse();
}

void register_help(CLI::App& app) {
  auto topic = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("help", "Help about any command");
  cmd->add_option("command", *topic, "Command to explain");
  cmd->callback([&app, topic] {
    const CLI::App* target = &app;
    if (!topic->empty()) {
      try {
        target = app.get_subcommand(*topic);
      } catch (const CLI::OptionNotFound&) { fmt::print(stderr, "Unknown help topic \"{}\"\n", *topic); }
    }
    // The formatter directly: App::help() of the root would describe the running `help`.
    fmt::print("{}",
               target->get_formatter()->make_help(target, target->get_name().empty() ? "corral" : target->get_name(),
                                                  CLI::AppFormatMode::Normal));
  });
}

}  // namespace corral::cli
