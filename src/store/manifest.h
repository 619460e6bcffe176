// Ollama's manifest (a Docker distribution v2 manifest whose layers are model parts) and its
// config blob, with the exact JSON shapes Ollama reads and writes (server/manifest.go,
// server/images.go ConfigV2). Parsing is strict about types and digests and bounded in size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/digest.h"

namespace corral::store {

namespace media_type {
constexpr std::string_view kManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kConfig = "application/vnd.docker.container.image.v1+json";
constexpr std::string_view kModel = "application/vnd.ollama.image.model";
constexpr std::string_view kAdapter = "application/vnd.ollama.image.adapter";
constexpr std::string_view kProjector = "application/vnd.ollama.image.projector";
constexpr std::string_view kTemplate = "application/vnd.ollama.image.template";
constexpr std::string_view kPrompt = "application/vnd.ollama.image.prompt";  // old name of template
constexpr std::string_view kSystem = "application/vnd.ollama.image.system";
constexpr std::string_view kParams = "application/vnd.ollama.image.params";
constexpr std::string_view kMessages = "application/vnd.ollama.image.messages";
constexpr std::string_view kLicense = "application/vnd.ollama.image.license";
}  // namespace media_type

// Bounds on what is read from disk. A manifest of a real model is a few KB; a config blob a
// few KB more (one diff_id per layer).
constexpr int64_t kMaxManifestBytes = 4 << 20;
constexpr int64_t kMaxConfigBytes = 4 << 20;
constexpr size_t kMaxLayers = 4096;

struct Layer {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::string from;  // Ollama's provenance note: the source model's name or blob path; optional
};

struct Manifest {
  int schema_version = 2;
  std::string media_type = std::string(media_type::kManifest);
  Layer config;  // digest may be empty (Ollama tolerates a manifest without config)
  std::vector<Layer> layers;

  // Sum of the layer sizes plus the config's (Ollama's Manifest.Size, shown by `ollama list`).
  int64_t total_size() const;
  // Every digest referenced (config first, then layers; the config only when present).
  std::vector<Digest> digests() const;

  static Result<Manifest> parse(std::string_view json);
  // Go json.Encoder output of Ollama's ManifestV2 (field order, trailing newline).
  std::string to_json() const;
};

// The config blob (Ollama's ConfigV2). `model_type` is shown as the parameter size and
// `file_type` as the quantization level.
struct ModelConfig {
  std::string model_format;
  std::string model_family;
  std::vector<std::string> model_families;
  bool model_families_null = false;  // Go writes a nil slice as null; kept for byte-exact rewrite
  std::string model_type;
  std::string file_type;
  std::string renderer;          // optional (omitted when empty)
  std::string parser;            // optional
  std::string requires_version;  // "requires" in JSON; optional
  std::string architecture = "amd64";
  std::string os = "linux";
  std::string rootfs_type = "layers";
  std::vector<std::string> diff_ids;

  // Unknown fields are ignored; a known field of the wrong JSON type is an error.
  static Result<ModelConfig> parse(std::string_view json);
  std::string to_json() const;
};

}  // namespace corral::store
