// Fetches the missing bytes of a PartialBlob: one ranged GET per incomplete part, several at
// once (Ollama's errgroup of up to 16 parts), each writing at its own offset.
//
// Faults: a transfer that breaks off (reset, truncated body, stall, 5xx) is retried from where
// it stopped; a part that gets no byte in kMaxFruitlessTries attempts in a row fails the blob.
// A 4xx, a 206 for another range, a body longer than asked for, or a disk error fail at once.
// Failure or cancellation stop every other part; what arrived stays in the partial file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "registry/partial_blob.h"
#include "registry/progress.h"

namespace corral::registry {

struct DownloadOptions {
  PartPlan plan;
  int max_connections = 16;  // parts in flight at once, per blob
  int max_fruitless_tries = 4;
  // Backoff before retry k (0-based) of a part that got nothing: base * 2^k.
  int64_t retry_base_ms = 250;
};

// Runs the transfers and calls `on_progress(bytes completed)` about every 60 ms (Ollama's
// progress tick) from the calling thread. Returns when the blob is complete, or with the first
// error once every transfer has stopped.
Status download_blob(PartialBlob& blob, const std::string& url, const DownloadOptions& options,
                     const std::function<void(int64_t completed)>& on_progress, const CancelFlag& cancel);

}  // namespace corral::registry
