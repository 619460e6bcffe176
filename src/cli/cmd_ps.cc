// corral ps [PREFIX] [--watch [SECONDS]]: the loaded models, as `ollama ps` prints them, plus
// what corral's scheduler is doing with each: SLOTS (sequences decoding / slots) and QUEUE
// (requests waiting).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/interrupt.h"

namespace corral::cli {
namespace {

int64_t int_field(const json& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && it->is_number() ? it->get<int64_t>() : 0;
}

// Ollama's PROCESSOR column from the bytes in GPU memory (always 0 for corral's CPU engine).
std::string processor(int64_t size, int64_t vram) {
  if (vram == 0) return "100% CPU";
  if (vram == size) return "100% GPU";
  if (vram > size || size == 0) return "Unknown";
  const double cpu = std::round(static_cast<double>(size - vram) / static_cast<double>(size) * 100);
  return fmt::format("{}%/{}% CPU/GPU", static_cast<int>(cpu), static_cast<int>(100 - cpu));
}

Result<std::string> ps_table(Client& c, const std::string& prefix) {
  auto r = c.call("GET", "/api/ps");
  if (!r) return r.status();
  std::vector<std::vector<std::string>> rows;
  const auto now = std::chrono::system_clock::now();
  const json models = r->is_object() ? r->value("models", json::array()) : json::array();
  for (const json& m : models) {
    const std::string name = m.value("name", m.value("model", ""));
    if (!prefix.empty() && name.rfind(prefix, 0) != 0) continue;
    std::string digest = m.value("digest", "");
    if (digest.rfind("sha256:", 0) == 0) digest.erase(0, 7);
    const int64_t size = int_field(m, "size");
    const auto expires = parse_rfc3339(m.value("expires_at", ""));
    // An expiry in the past: the model is being unloaded right now.
    const std::string until = expires && *expires < now ? "Stopping..." : human_time(expires, "Never");
    std::string slots = m.contains("slots_total")
                            ? fmt::format("{}/{}", int_field(m, "slots_in_use"), int_field(m, "slots_total"))
                            : "";
    if (m.value("loading", false)) slots = "loading";
    rows.push_back({name, digest.substr(0, 12), human_bytes(size), processor(size, int_field(m, "size_vram")),
                    std::to_string(int_field(m, "context_length")), until, slots,
                    m.contains("queued") ? std::to_string(int_field(m, "queued")) : ""});
  }
  return render_table({"NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL", "SLOTS", "QUEUE"}, rows);
}

// Redraws the table every `seconds` until Ctrl-C, like `watch corral ps`.
int watch(Client& c, const std::string& prefix, double seconds) {
  InterruptScope scope;
  const bool tty = isatty(STDOUT_FILENO);
  const auto period = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (!interrupted()) {
    auto table = ps_table(c, prefix);
    if (interrupted()) break;
    const std::time_t t = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", std::localtime(&t));
    std::string frame =
        fmt::format("Every {:.1f}s: corral ps{}    {}\n\n", seconds, prefix.empty() ? "" : " " + prefix, when);
    frame += table ? *table : "Error: " + table.error() + "\n";
    fmt::print("{}{}", tty ? "\033[H\033[2J" : "", frame + (tty ? "" : "\n"));
    std::fflush(stdout);
    const auto until = std::chrono::steady_clock::now() + period;
    while (!interrupted() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

}  // namespace

void register_ps(CLI::App& app, int& exit_code) {
  struct Opts {
    std::string prefix;
    std::vector<std::string> watch;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("ps", "List running models");
  cmd->add_option("prefix", o->prefix, "Only models whose name starts with this");
  CLI::Option* w = cmd->add_option("--watch,-w", o->watch, "Refresh every SECONDS (default 2) until Ctrl-C")
                       ->expected(0, 1)
                       ->type_name("SECONDS");
  cmd->callback([o, w, &exit_code] {
    auto c = Client::from_env();
    if (!c) {
      exit_code = fail(c.status());
      return;
    }
    if (w->count() > 0) {
      double secs = 2;
      if (!o->watch.empty() && !o->watch[0].empty()) {
        char* end = nullptr;
        secs = std::strtod(o->watch[0].c_str(), &end);
        if (!end || *end || !(secs >= 0.1)) {
          exit_code = fail(fmt::format("invalid --watch interval \"{}\": give seconds, at least 0.1", o->watch[0]));
          return;
        }
      }
      exit_code = watch(*c, o->prefix, secs);
      return;
    }
    auto table = ps_table(*c, o->prefix);
    if (!table) {
      exit_code = fail(table.status());
      return;
    }
    fmt::print("{}", *table);
  });
}

}  // namespace corral::cli
