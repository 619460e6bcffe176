// Internal to the store: walking manifests/ and finding digests in text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/digest.h"
#include "store/model_name.h"

namespace corral::store::detail {

struct ManifestFile {
  ModelName name;
  std::string path;
};

// Every manifests/<host>/<namespace>/<model>/<tag> regular file whose four path parts are valid
// name parts (so temp files and stray entries are skipped, as Ollama's ParseNameFromFilepath
// skips them), sorted by path. A missing manifests/ directory is an empty store.
Result<std::vector<ManifestFile>> scan_manifests(const std::string& manifests_dir);

// Every "sha256:<hex>" / "sha256-<hex>" in `text`: what a manifest that no longer parses may
// still reference, so garbage collection keeps those blobs.
std::vector<Digest> digests_in_text(std::string_view text);

}  // namespace corral::store::detail
