// Ollama's on-disk model store, read and written in Ollama's own layout so that a store written
// by Ollama serves unchanged and Ollama can serve what corral writes:
//
//   <root>/manifests/<host>/<namespace>/<model>/<tag>   JSON manifest (manifest.h)
//   <root>/blobs/sha256-<hex>                           content-addressed layer data
//
// <root> is $OLLAMA_MODELS, else ~/.ollama/models (default_root()); tests pass a temp dir.
//
// Safety: names are validated (model_name.h) and digests are validated (digest.h) before any path
// is built from them; every file read that is not a model blob is bounded in size; manifests and
// blobs appear atomically (temp file + rename), so a reader never sees half of one.
//
// Concurrency rule (garbage collection): a blob is deleted only by remove() or a create that
// replaced layers, only if it was referenced by the manifest being removed/replaced (or was made
// by that create and ended up unused), and only after scanning every remaining manifest under an
// exclusive lock on blobs/. Everything that makes a manifest reference a blob (create, copy,
// write_manifest) holds the shared lock from before it decides to reuse a blob until its manifest
// is on disk, so a collection can never delete a blob that a manifest is about to reference.
// Blobs being written live under temp names that no collection looks at. A manifest that cannot
// be parsed still protects every digest that appears in its text. Ollama itself takes no such
// lock, so this protects corral against corral (threads and processes), not against an Ollama
// server deleting models in the same store at the same moment.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "store/digest.h"
#include "store/file_io.h"
#include "store/manifest.h"
#include "store/model_name.h"
#include "store/modelfile.h"

namespace corral::store {

// Bounds for the text layers resolve() reads into memory.
constexpr int64_t kMaxSmallLayerBytes = 1 << 20;  // template, system, params
constexpr int64_t kMaxLargeLayerBytes = 8 << 20;  // license texts, messages

// What /api/tags and /api/show call "details".
struct ModelDetails {
  std::string parent_model;
  std::string format;
  std::string family;
  std::vector<std::string> families;
  std::string parameter_size;
  std::string quantization_level;
};

struct ListEntry {
  ModelName name;
  int64_t size = 0;                                   // manifest's layers + config
  std::string digest;                                 // sha256 hex of the manifest file's bytes
  std::chrono::system_clock::time_point modified_at;  // manifest mtime
  ModelDetails details;
};

struct ListResult {
  std::vector<ListEntry> models;     // most recently modified first (as `ollama list`)
  std::vector<std::string> skipped;  // manifests that could not be read, with the reason
};

struct ResolvedModel {
  ModelName name;  // as spelled on disk
  Manifest manifest;
  std::string manifest_path;
  std::string manifest_digest;  // sha256 hex of the manifest bytes
  std::chrono::system_clock::time_point modified_at;
  ModelConfig config;
  ModelDetails details;
  std::string model_path;  // blob of the application/vnd.ollama.image.model layer
  std::vector<std::string> adapter_paths;
  std::vector<std::string> projector_paths;
  std::optional<std::string> template_text;
  std::optional<std::string> system;
  nlohmann::json params = nlohmann::json::object();
  std::vector<Message> messages;
  std::vector<std::string> licenses;

  // The Modelfile `show --modelfile` prints for this model.
  ModelfileSource modelfile_source() const;
};

struct BlobWrite {
  Digest digest;
  int64_t size = 0;
  bool created = false;  // false: a blob with these bytes was already there
  std::string path;
};

// Called while a blob is copied: bytes written so far, total when known (else 0).
using ByteProgress = std::function<void(int64_t done, int64_t total)>;

class Store;

// Streams a blob in: bytes go to a temp file in blobs/ while being hashed; commit() moves the
// file to blobs/sha256-<hex> (or drops it when that blob already exists). Dropping the writer
// without committing deletes the temp file.
class BlobWriter {
 public:
  ~BlobWriter();
  BlobWriter(BlobWriter&& o) noexcept;
  BlobWriter& operator=(BlobWriter&&) = delete;
  BlobWriter(const BlobWriter&) = delete;

  Status append(const void* data, size_t n);
  int64_t size() const { return size_; }
  // With `expected`, a mismatch is an error and nothing is kept (Ollama's blob upload check).
  Result<BlobWrite> commit(const std::optional<Digest>& expected = std::nullopt);

 private:
  friend class Store;
  BlobWriter(std::string blobs_dir, std::string temp, int fd);
  void discard();
  std::string blobs_dir_;
  std::string temp_;
  int fd_ = -1;
  int64_t size_ = 0;
  std::unique_ptr<Sha256> hash_;
};

struct RemoveResult {
  ModelName name;  // the name as it was spelled on disk
  std::vector<Digest> removed_blobs;
};

class Store {
 public:
  explicit Store(std::string root);

  // $OLLAMA_MODELS (trimmed of blanks and quotes, as Ollama's envconfig does), else
  // $HOME/.ollama/models.
  static std::string default_root();

  const std::string& root() const { return root_; }
  std::string manifests_dir() const { return root_ + "/manifests"; }
  std::string blobs_dir() const { return root_ + "/blobs"; }
  std::string blob_path(const Digest& d) const { return blobs_dir() + "/" + d.file_name(); }
  std::string manifest_path(const ModelName& n) const { return manifests_dir() + "/" + n.relative_path(); }
  bool has_blob(const Digest& d) const;

  // Blobs.
  Result<BlobWriter> begin_blob() const;
  Result<BlobWrite> write_blob(std::istream& in, const std::optional<Digest>& expected = std::nullopt,
                               const ByteProgress& progress = nullptr) const;
  Result<BlobWrite> write_blob_from_file(const std::string& path, const std::optional<Digest>& expected = std::nullopt,
                                         const ByteProgress& progress = nullptr) const;
  Result<BlobWrite> write_blob_bytes(std::string_view bytes) const;

  // Names. find(): the stored spelling of `name` (exact, else the unique case-insensitive match);
  // an error "model '...' not found" when there is none. spelling_for_write(): `name` with every
  // part that already exists in another case replaced by the existing spelling (Ollama's
  // getExistingName), so two names never differ only in case.
  Result<ModelName> find(const ModelName& name) const;
  ModelName spelling_for_write(const ModelName& name) const;

  // Manifests. read_manifest() reads the exact spelling. write_manifest() writes under the
  // existing spelling of the name, atomically, and refuses a manifest whose blobs are missing; it
  // takes the shared lock unless the caller already holds it (kAlreadyLocked).
  enum class Locking { kTakeLock, kAlreadyLocked };
  Result<Manifest> read_manifest(const ModelName& name) const;
  Status write_manifest(const ModelName& name, const Manifest& manifest, Locking locking = Locking::kTakeLock) const;

  Result<ListResult> list() const;
  Result<ResolvedModel> resolve(std::string_view name) const;
  Result<ResolvedModel> resolve(const ModelName& name) const;

  // Copies the manifest file byte for byte (so the copy has the same digest), as Ollama does.
  Status copy(std::string_view source, std::string_view destination) const;
  // Deletes the manifest, prunes empty directories, then collects the blobs only it used.
  Result<RemoveResult> remove(std::string_view name) const;

  // Locks (see the concurrency rule above).
  Result<DirLock> lock_shared() const;
  // Deletes those of `candidates` no manifest references; takes the exclusive lock. Returns the
  // digests actually deleted.
  Result<std::vector<Digest>> collect_garbage(const std::vector<Digest>& candidates) const;

 private:
  Result<std::vector<Digest>> collect_garbage_locked(const std::vector<Digest>& candidates) const;
  Result<ResolvedModel> resolve_found(const ModelName& name) const;

  std::string root_;
};

}  // namespace corral::store
