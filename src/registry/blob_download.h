// Fetches the missing bytes of a PartialBlob: one ranged GET per incomplete part, several at
// once (Ollama's errgroup of up to 16 parts), each writing at its own offset.
//
// Faults: a transfer that breaks off (reset, truncated body, 5xx) is retried from where it
// stopped; a part that gets no byte in kMaxFruitlessTries attempts in a row fails the blob.
// A part that receives nothing for stall_timeout fails the blob at once (a registry that
// stalls once is not asked again and again: Ollama's endless retries of stalled parts are what
// makes a pull hang for ever). A 4xx, a 206 for another range, a body longer than asked for,
// or a disk error fail at once too.
// Failure or cancellation stop every other part; what arrived stays in the partial file.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "registry/http_client.h"
#include "registry/partial_blob.h"
#include "registry/progress.h"

namespace corral::registry {

struct DownloadOptions {
  PartPlan plan;
  int max_connections = 16;  // parts in flight at once, per blob
  int max_fruitless_tries = 4;
  // Backoff before retry k (0-based) of a part that got nothing: base * 2^k.
  int64_t retry_base_ms = 250;
  // No byte for this long fails the transfer (each part's, and the manifest's): the pull
  // ends with an error and the bytes received so far stay for the next pull.
  std::chrono::milliseconds stall_timeout = kDefaultStallTimeout;
};

// Runs the transfers and calls `on_progress(bytes completed)` about every 60 ms (Ollama's
// progress tick) from the calling thread. Returns when the blob is complete, or with the first
// error once every transfer has stopped.
Status download_blob(PartialBlob& blob, const std::string& url, const DownloadOptions& options,
                     const std::function<void(int64_t completed)>& on_progress, const CancelFlag& cancel);

}  // namespace corral::registry
