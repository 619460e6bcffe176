// `create`: builds a model from a parsed Modelfile the way Ollama's server does
// (server/create.go createModel, ggufLayers, parseFromModel, detectChatTemplate), writing the
// same layers, config blob and manifest, and reporting the same progress statuses so the HTTP
// layer can stream them:
//   "parsing modelfile", "parsing GGUF", "copying file" (with byte counts),
//   "using autodetected template <name>", "using existing layer sha256:<hex>",
//   "creating new layer sha256:<hex>", "writing manifest", "success".
//
// FROM may name a blob already in the store ("@sha256:<hex>", "sha256:<hex>" or
// "sha256-<hex>"), a stored model, whose layers are inherited and then overridden by TEMPLATE /
// SYSTEM / PARAMETER / MESSAGE (LICENSE adds), or - only where CreateOptions::allow_file_paths
// says so - a GGUF file (relative to the Modelfile's folder, "~" expanded). Further FROM lines may
// add GGUF files (a projector, as Ollama allows). Unlike Ollama, a model name that is not in the
// store is an error: nothing is pulled.
//
// Files named by a request are never opened: the server leaves allow_file_paths off, so a FROM
// that looks like a path (looks_like_path) is refused without touching the file system, with the
// same words whether it exists or not, and errors about a blob that is not GGUF say only that
// (the GGUF parser's detail would quote bytes of a blob the client may not have sent).
//
// Template text: when FROM is a GGUF, Ollama maps the GGUF's tokenizer.chat_template to one of
// its named templates (plus that template's stop parameters) and writes them as layers; a
// TEMPLATE in the Modelfile then replaces them. The mapping is a hook (detect_template), by
// default templates/' family detection; without a match no template layer is written and the
// model keeps Ollama's default "{{ .Prompt }}".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "store/model_name.h"
#include "store/modelfile.h"
#include "store/store.h"

namespace corral::store {

struct Progress {
  std::string status;
  std::string digest;  // set with "copying file" when known; else empty
  int64_t total = 0;   // bytes, for "copying file"
  int64_t completed = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

struct DetectedTemplate {
  std::string name;                                  // reported as "using autodetected template <name>"
  std::string text;                                  // Go-template text for the template layer
  nlohmann::json params = nlohmann::json::object();  // e.g. {"stop": [...]}; empty: no layer
};
// Given a GGUF chat template (Jinja), the matching Ollama template, if any.
using TemplateDetector = std::function<std::optional<DetectedTemplate>(std::string_view jinja)>;
// Checks a TEMPLATE text; an error is reported as "template error: <message>".
using TemplateValidator = std::function<Status(std::string_view text)>;

// The defaults, backed by templates/. The detector maps a Jinja chat template to the built-in Go
// template of its family (llama3, chatml, gemma, ...) with that family's stop strings as params,
// as Ollama maps it to one of its named templates; an unrecognised template gives nothing, so, as
// with Ollama, no template layer is written. The validator parses TEMPLATE texts with corral's Go
// template engine (Ollama's template.Parse check).
TemplateDetector builtin_template_detector();
TemplateValidator go_template_validator();

struct CreateOptions {
  // Whether a FROM may name a file on this machine, to be copied into the store. Only for trusted
  // in-process callers (test fixtures building a store); a server must leave it off.
  bool allow_file_paths = false;
  std::string base_dir = ".";  // folder FROM paths are relative to (the Modelfile's)
  ProgressFn progress;
  TemplateDetector detect_template = builtin_template_detector();  // null: no detection
  TemplateValidator validate_template = go_template_validator();   // null: no check
};

// Creates (or replaces) `name`. On success the manifest is written and the blobs that only the
// replaced manifest used are collected; on failure the manifest is untouched and the blobs this
// call created and no manifest uses are removed again. Returns the name as written on disk.
Result<ModelName> create_model(const Store& store, std::string_view name, const Modelfile& mf,
                               const CreateOptions& options = {});

// The refusal of a path-valued FROM where files may not be named. It quotes no path, so it reads
// the same whether the file exists or not.
inline constexpr const char* kFromPathRefused =
    "FROM must name a model or an uploaded blob (@sha256:<hex>); files named by a request are not "
    "read: upload the file with POST /api/blobs/:digest and name it in \"files\" (corral create "
    "does this)";

// Whether a FROM value is meant as a file path rather than a model name or digest: it starts with
// '/', '.' or '~', or has a backslash (a Windows path). Such a value is never a valid model name.
bool looks_like_path(std::string_view from);

// Where a FROM path points: "~", "~/x", "~user/x", absolute, or relative to `base_dir` (the
// Modelfile's folder), as Ollama's expandPath resolves it. `ollama create` does this on the
// client, so the CLI uses it too.
std::string expand_from_path(const std::string& path, const std::string& base_dir);

}  // namespace corral::store
