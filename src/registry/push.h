// Pushing a model from the store to a registry with Docker registry v2 uploads, reporting as
// Ollama's PushModel / uploadBlob (server/images.go, upload.go) do:
//
//   retrieving manifest
//   pushing <12 hex>   per blob: HEAD /v2/<ns>/<model>/blobs/<digest> (present: done), else
//                      POST .../blobs/uploads/ -> PATCH <Location> per chunk (Content-Range
//                      "<first>-<last>") -> PUT <Location>?digest=<digest>
//   pushing manifest   PUT /v2/<ns>/<model>/manifests/<tag>, the stored manifest's bytes
//   success
//
// Chunks are kChunkBytes so that each PATCH body fits a corral registry's request limit;
// Ollama's client sends 100 MB+ parts, which only registries with streaming uploads accept.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "registry/progress.h"
#include "store/store.h"

namespace corral::registry {

struct PushOptions {
  bool insecure = false;
  int64_t chunk_bytes = 16 << 20;
};

Status push_model(const store::Store& store, std::string_view name, const PushOptions& options,
                  const ProgressFn& progress, const CancelFlag& cancel);

}  // namespace corral::registry
