// corral tokenize / detokenize: the tokenizer of any GGUF (vocab-only files too), as JSON.
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace corral::cli {
namespace {

Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const std::string& path) {
  auto f = gguf::GgufFile::open(path);
  if (!f) return f.status();
  return Tokenizer::from_gguf(**f);
}

}  // namespace

void register_tokenize(CLI::App& app, int& exit_code) {
  struct Opts {
    std::string model, prompt, prompt_file;
    bool no_bos = false, no_special = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print a text's token ids as a JSON array");
  cmd->add_option("--model,-m", o->model, "GGUF file (a vocab-only file works)")->required();
  auto* p = cmd->add_option("--prompt,-p", o->prompt, "text to tokenize");
  auto* pf = cmd->add_option("--prompt-file,-f", o->prompt_file, "file holding the text");
  p->excludes(pf);
  cmd->add_flag("--no-bos", o->no_bos, "do not add BOS/EOS as the vocabulary's flags say");
  cmd->add_flag("--no-special", o->no_special, "treat special-token text as plain text");
  cmd->callback([o, &exit_code] {
    auto tok = load_tokenizer(o->model);
    if (!tok) {
      fmt::print(stderr, "Error: {}\n", tok.error());
      exit_code = 1;
      return;
    }
    std::string text = o->prompt;
    if (!o->prompt_file.empty()) {
      std::ifstream in(o->prompt_file, std::ios::binary);
      if (!in) {
        fmt::print(stderr, "Error: cannot read {}\n", o->prompt_file);
        exit_code = 1;
        return;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    const auto ids = (*tok)->encode(text, !o->no_bos, !o->no_special);
    fmt::print("{}\n", nlohmann::json(ids).dump());
  });

  struct DOpts {
    std::string model, ids;
    bool render_special = false;
  };
  auto d = std::make_shared<DOpts>();
  CLI::App* dcmd = app.add_subcommand("detokenize", "Print the text of token ids");
  dcmd->add_option("--model,-m", d->model, "GGUF file (a vocab-only file works)")->required();
  dcmd->add_option("--ids", d->ids, "token ids, comma-separated")->required();
  dcmd->add_flag("--render-special", d->render_special, "show control tokens' text");
  dcmd->callback([d, &exit_code] {
    auto tok = load_tokenizer(d->model);
    std::vector<int32_t> ids;
    if (!tok || !parse_token_list(d->ids, &ids)) {
      fmt::print(stderr, "Error: {}\n", tok ? "--ids must be comma-separated integers" : tok.error());
      exit_code = 1;
      return;
    }
    fmt::print("{}\n", (*tok)->decode(ids, d->render_special));
  });
}

}  // namespace corral::cli
