// corral create MODEL [-f Modelfile]: as `ollama create` - the Modelfile is read and its local
// files uploaded as blobs here, then the server builds the model from /api/create while its
// status records are drawn.
#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/create_request.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "store/file_io.h"
#include "store/modelfile.h"
#include "store/modelfile_limits.h"

namespace corral::cli {
namespace {

struct Opts {
  std::string model, file, quantize;
};

int run_create(const Opts& o) {
  const std::string file = o.file.empty() ? "Modelfile" : o.file;
  auto st = store::stat_path(file);
  if (!st || !st->exists) {
    return fail(o.file.empty() ? "no Modelfile in the current directory; name one with -f"
                               : "specified Modelfile wasn't found");
  }
  // Bounded: the parser refuses more anyway, and a wrong -f (a model file) is not read whole.
  auto text = store::read_file_bounded(file, store::kMaxModelfileBytes);
  if (!text) return fail(fmt::format("reading the Modelfile: {}", text.error()));
  std::error_code ec;
  const std::string dir = std::filesystem::absolute(file, ec).parent_path().string();

  // Parse errors first, as one line, before any progress is drawn.
  auto mf = store::parse_modelfile(*text);
  if (!mf) return fail(mf.status());
  auto c = Client::from_env();
  if (!c) return fail(c.status());
  InterruptScope scope;
  Progress p;
  p.status("gathering model components");  // hashing a multi-GB file takes a while
  auto plan = plan_create(o.model, *mf, dir.empty() ? "." : dir);
  if (!plan) {
    p.stop_and_clear();
    return fail(plan.status());
  }
  for (const LocalBlob& b : plan->blobs) {
    const std::string label = fmt::format("copying file {}", b.digest);
    auto have = c->exists("/api/blobs/" + b.digest);
    if (!have) {
      p.stop_and_clear();
      return fail(have.status());
    }
    if (!*have && b.path.empty()) {
      p.stop_and_clear();
      return fail(fmt::format("FROM {}: no such file here, and the server has no blob {}", b.from, b.digest));
    }
    if (!*have) {
      p.bar(b.digest, label, b.size, 0);
      Status s = c->upload("/api/blobs/" + b.digest, b.path,
                           [&](int64_t sent, int64_t total) { p.bar(b.digest, label, total, sent); });
      if (!s) {
        p.stop();
        return fail(s);
      }
    }
    p.bar(b.digest, label, b.size, b.size);
  }
  ordered_json req = plan->request;
  if (!o.quantize.empty()) req["quantize"] = o.quantize;
  Status s = c->stream("/api/create", req, [&p](const json& r) {
    p.record(r, "pulling");
    return true;
  });
  p.stop();
  return s ? 0 : fail(s);
}

}  // namespace

void register_create(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("create", "Create a model from a Modelfile");
  cmd->add_option("model", o->model, "Name of the new model")->required();
  cmd->add_option("--file,-f", o->file, "Name of the Modelfile (default \"Modelfile\")");
  cmd->add_option("--quantize,-q", o->quantize, "Quantize model to this level (e.g. q4_K_M)");
  cmd->callback([o, &exit_code] { exit_code = run_create(*o); });
}

}  // namespace corral::cli
