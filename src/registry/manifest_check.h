// Checks on a manifest that came over the network (pulled from a registry, or pushed to ours)
// before anything is written because of it. store::Manifest::parse already refuses malformed
// JSON, wrong types and every digest that is not "sha256:<64 lowercase hex>" (so no digest can
// name a path such as "../../etc/passwd"); this adds what a registry manifest must also be:
//   - schemaVersion 2 and a Docker v2 (or OCI) image manifest media type;
//   - at least one layer, each with a syntactically valid media type;
//   - sizes that are sane: no blob over kMaxBlobBytes, a config no larger than the store reads,
//     no total that overflows, and one size per digest when a digest repeats.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "store/manifest.h"

namespace corral::registry {

// 1 TiB: an order of magnitude above the largest published GGUF files. A manifest declaring
// more is either broken or trying to make us preallocate the disk.
constexpr int64_t kMaxBlobBytes = int64_t{1} << 40;

constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";

Status check_remote_manifest(const store::Manifest& m);

// type "/" subtype with RFC 6838 restricted-name characters, at most 255 bytes.
bool is_valid_media_type(std::string_view s);

}  // namespace corral::registry
