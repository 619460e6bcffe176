// Helpers for the tests that run real servers: stores with models in them, the NDJSON of
// /api/pull and /api/push, and what a registry server's log says it sent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/digest.h"

namespace corral::testing {

// Creates the model "tiny" (tinystories-656k-f32) in a store at `dir`.
void create_tiny(const std::string& dir);
// Adds the model `name`: tiny's layers plus a `bytes`-long random layer of a media type that
// nothing reads, so the model still runs and its pull takes long enough to interrupt. Returns
// the big layer's digest.
store::Digest add_big_model(const std::string& dir, const std::string& name, size_t bytes, uint64_t seed);

// The records of an NDJSON body (a trailing partial line is ignored).
std::vector<nlohmann::json> ndjson(const std::string& body);
// {"model": name, "insecure": true} with "stream": false when !stream.
std::string transfer_body(const std::string& name, bool stream = true);

// From a registry server's log: what its "registry: sent <hex12> bytes <first>-<last> of <size>
// (<n> B...)" lines say about that blob.
struct SentRange {
  int64_t first = 0, last = 0, bytes = 0;
};
std::vector<SentRange> sent_ranges(const std::string& log, const store::Digest& d);
int64_t bytes_sent(const std::string& log, const store::Digest& d);

// sha256 of a file.
store::Digest file_digest(const std::string& path);

}  // namespace corral::testing
