// corral run MODEL [PROMPT...]: as `ollama run`. With a prompt, or with input piped in, or with
// output that is not a terminal, it answers once (/api/generate) and exits; otherwise it opens
// the chat REPL (/api/chat). A model that is not here yet is pulled first.
#include <unistd.h>

#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "cli/client_ops.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/run_session.h"
#include "scheduler/config.h"

namespace corral::cli {
namespace {

struct Opts {
  std::string model;
  std::vector<std::string> prompt;
  std::string format, keepalive;
  std::string think;  // --think[=VALUE]; "" when not given
  bool verbose = false, nowordwrap = false, insecure = false, hidethinking = false;
};

// Prints the model's MESSAGE history the way the REPL would have shown it.
void print_history(const json& show, const RunSession& s) {
  if (!show.contains("messages") || !show["messages"].is_array()) return;
  for (const json& m : show["messages"]) {
    const std::string role = m.value("role", ""), content = m.value("content", "");
    if (role == "user") {
      fmt::print(">>> {}\n", content);
    } else if (role == "assistant") {
      ResponsePrinter(s.word_wrap).print(content);
      fmt::print("\n\n");
    }
  }
}

int run(const Opts& o) {
  RunSession s;
  s.model = o.model;
  s.verbose = o.verbose;
  s.word_wrap = !o.nowordwrap;
  s.hide_thinking = o.hidethinking;
  if (!o.think.empty()) {
    // Ollama's values: a bare --think is true; levels are for models that take them (gpt-oss).
    if (o.think == "true") s.think = true;
    else if (o.think == "false") s.think = false;
    else if (o.think == "high" || o.think == "medium" || o.think == "low") s.think = o.think;
    else
      return fail(fmt::format("invalid value for --think: {} (must be true, false, high, medium, or low)",
                              json(o.think).dump()));
  }
  if (!o.keepalive.empty()) {
    if (auto ka = scheduler::parse_keep_alive(o.keepalive); !ka) return fail(ka.status());
    s.keep_alive = o.keepalive;
  }
  if (o.format == "json") {
    s.format = "json";
  } else if (!o.format.empty()) {
    s.format = ordered_json::parse(o.format, nullptr, false);  // a JSON schema
    if (s.format.is_discarded()) return fail("--format must be \"json\" or a JSON schema");
  }

  bool interactive = true;
  std::vector<std::string> prompts = o.prompt;
  if (!isatty(STDIN_FILENO)) {
    // Piped input is the prompt (before any prompt words), answered once.
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    prompts.insert(prompts.begin(), in);
    s.word_wrap = false;
    interactive = false;
  }
  std::string prompt;
  for (size_t i = 0; i < prompts.size(); ++i) prompt += (i ? " " : "") + prompts[i];
  if (!prompts.empty()) interactive = false;
  if (!isatty(STDOUT_FILENO)) interactive = false;  // quiet when writing to a pipe or file

  auto c = Client::from_env();
  if (!c) return fail(c.status());
  auto show = c->call("POST", "/api/show", ordered_json{{"model", s.model}});
  if (!show && c->last_status() == 404) {
    // Not here: pull it, as Ollama does. A server without /api/pull keeps the first error.
    const std::string not_found = show.error();
    if (Status p = pull_with_progress(*c, s.model, o.insecure); !p)
      return fail(c->last_status() == 404 ? not_found : p.message());
    show = c->call("POST", "/api/show", ordered_json{{"model", s.model}});
  }
  if (!show) return fail(show.status());

  if (!interactive) return generate_once(*c, s, prompt);

  {
    Progress spinner;  // loading can take a while for a large model
    spinner.status("");
    Status st = load_or_unload(*c, s.model, s.keep_alive);
    spinner.stop_and_clear();
    if (!st) return fail(st);
  }
  print_history(*show, s);
  return chat_repl(*c, s);
}

}  // namespace

void register_run(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model");
  cmd->add_option("model", o->model, "Model name")->required();
  cmd->add_option("prompt", o->prompt, "Prompt (answered once; without it an interactive chat starts)");
  cmd->add_option("--format", o->format, "Response format (\"json\" or a JSON Schema)");
  cmd->add_option("--keepalive", o->keepalive, "Duration to keep a model loaded (e.g. 5m)");
  cmd->add_flag("--verbose", o->verbose, "Show timings for response");
  cmd->add_flag("--nowordwrap", o->nowordwrap, "Don't wrap words to the next line automatically");
  cmd->add_flag("--insecure", o->insecure, "Use an insecure registry");
  // A flag whose value is optional, as Ollama's: --think, --think=false, --think=high.
  cmd->add_flag("--think{true}", o->think, "Enable thinking mode: true/false or high/medium/low for supported models");
  cmd->add_flag("--hidethinking", o->hidethinking, "Hide thinking output (if provided)");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace corral::cli
