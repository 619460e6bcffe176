// corral list|ls [PREFIX]: the models in the store, as `ollama list` prints them.
#include <algorithm>

#include <fmt/format.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace corral::cli {
namespace {

bool starts_with_fold(const std::string& s, const std::string& prefix) {
  if (prefix.size() > s.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
}

int run_list(const std::string& prefix) {
  auto c = Client::from_env();
  if (!c) return fail(c.status());
  auto r = c->call("GET", "/api/tags");
  if (!r) return fail(r.status());
  std::vector<std::vector<std::string>> rows;
  const json models = r->is_object() ? r->value("models", json::array()) : json::array();
  for (const json& m : models) {
    const std::string name = m.value("name", m.value("model", ""));
    if (!prefix.empty() && !starts_with_fold(name, prefix)) continue;
    std::string digest = m.value("digest", "");
    if (digest.rfind("sha256:", 0) == 0) digest.erase(0, 7);
    rows.push_back({name, digest.substr(0, 12), human_bytes(m.value("size", int64_t{0})),
                    human_time(parse_rfc3339(m.value("modified_at", "")), "Never")});
  }
  fmt::print("{}", render_table({"NAME", "ID", "SIZE", "MODIFIED"}, rows));
  return 0;
}

}  // namespace

void register_list(CLI::App& app, int& exit_code) {
  auto prefix = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("list", "List models");
  cmd->alias("ls");
  cmd->add_option("prefix", *prefix, "Only models whose name starts with this");
  cmd->callback([prefix, &exit_code] { exit_code = run_list(*prefix); });
}

}  // namespace corral::cli
