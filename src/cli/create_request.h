// `corral create`'s client half, as `ollama create` does it: the Modelfile is parsed here, FROM
// lines naming local files become blobs (checked as GGUF and hashed here, uploaded if the server
// lacks them) listed in "files", and the rest becomes Ollama's /api/create JSON ("from",
// "template", "system", "parameters", "messages", "license", ...). The server reads no path a
// request names, so every file goes up this way. A FROM spelled as a path ("/", ".", "~") that
// is not here is an error, unless its name is a blob digest ("sha256-<hex>", as `show
// --modelfile` prints the server's blob paths): then the server's blob of that digest is used.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "store/modelfile.h"

namespace corral::cli {

struct LocalBlob {
  std::string from;    // the FROM value that named it
  std::string path;    // the file on this machine; empty: not here, named by its digest only
  std::string name;    // its base name, the key in "files"
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
};

struct CreatePlan {
  nlohmann::ordered_json request;  // without "files" digests' uploads done
  std::vector<LocalBlob> blobs;    // to upload before the request
};

// Hashes the local files a parsed Modelfile names; `modelfile_dir` anchors relative FROM paths.
Result<CreatePlan> plan_create(const std::string& model, const store::Modelfile& mf, const std::string& modelfile_dir);

// sha256 of a file, "sha256:<hex>".
Result<std::string> file_digest(const std::string& path, int64_t* size);

}  // namespace corral::cli
