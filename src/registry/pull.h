// Pulling a model from a registry into the store, step by step as Ollama's PullModel
// (server/images.go) reports it:
//
//   pulling manifest                 GET /v2/<ns>/<model>/manifests/<tag>, then validated
//   pulling <12 hex>  (per blob)     digest, total, completed; a blob already stored counts as done
//   verifying sha256 digest          every downloaded blob hashed; a mismatch deletes it
//   writing manifest                 the manifest, atomically, once every blob is committed
//   removing unused layers           blobs only the replaced manifest used (unless OLLAMA_NOPRUNE)
//   success
//
// Unlike Ollama, nothing reaches the store before every downloaded blob has been verified:
// blobs stay in their partial files until then, so a bad blob never leaves a good-looking file
// behind, and a failed or cancelled pull leaves only partial files, which the next pull resumes.
#pragma once

#include <string_view>

#include "base/status.h"
#include "registry/blob_download.h"
#include "registry/progress.h"
#include "store/store.h"

namespace corral::registry {

struct PullOptions {
  bool insecure = false;  // plain http (Ollama's "insecure")
  DownloadOptions download;
  bool prune = true;  // remove blobs the replaced manifest alone used (Ollama: unless OLLAMA_NOPRUNE)
};

// Download tuning from the environment: CORRAL_PULL_PART_SIZE (bytes; the smallest part a blob
// is split into, so blobs over it download over several connections) and
// CORRAL_PULL_CONNECTIONS (parts in flight per blob), CORRAL_PULL_STALL_TIMEOUT (seconds without
// a byte from the registry before a pull fails; 60 by default). OLLAMA_NOPRUNE disables pruning.
PullOptions pull_options_from_env();

// Pulls `name` ("[host/][namespace/]model[:tag]", or with "http(s)://") into `store`.
Status pull_model(const store::Store& store, std::string_view name, const PullOptions& options,
                  const ProgressFn& progress, const CancelFlag& cancel);

}  // namespace corral::registry
