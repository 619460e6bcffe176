// A blob being downloaded, on disk in Ollama's own resumable layout (server/download.go), so a
// pull interrupted in corral resumes in Ollama and the other way round:
//
//   blobs/sha256-<hex>-partial     the data, preallocated (sparse) to the blob's size
//   blobs/sha256-<hex>-partial-N   part N as JSON: {"N":0,"Offset":0,"Size":...,"Completed":...}
//
// A part's Completed never counts bytes that were not written to the data file first, so a
// resume may fetch a few bytes twice but never skips any. Nothing here is in the store until
// commit(): the store reads and collects only sha256-<hex> names (its garbage collector never
// sees -partial files), and commit() renames the data file into place only after the caller has
// verified the digest.
//
// One download per blob at a time, across threads and processes: acquire() takes an flock on
// the data file and waits while another holder downloads; when that one commits, the blob is
// simply there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "registry/progress.h"
#include "store/store.h"

namespace corral::registry {

// How a blob is cut into ranged requests: Ollama's numDownloadParts / minDownloadPartSize /
// maxDownloadPartSize, i.e. size/16 clamped to [100 MB, 1000 MB], so blobs under 100 MB are one
// part and large ones get up to 16 concurrent connections.
struct PartPlan {
  int64_t min_part_size = 100'000'000;
  int64_t max_part_size = 1'000'000'000;
  int64_t target_parts = 16;
};

struct PartState {
  int n = 0;
  int64_t offset = 0;
  int64_t size = 0;
  int64_t completed = 0;
};

// The parts for a blob of `total` bytes (none for an empty blob).
std::vector<PartState> plan_parts(int64_t total, const PartPlan& plan);

class PartialBlob {
 public:
  // Locks the blob's partial download, waiting (and polling `cancel`) while another download
  // holds it, and loads the parts a previous attempt left - or starts afresh when there are
  // none or they do not describe a blob of `size` bytes. nullopt: the blob is already in the
  // store (possibly just committed by the download we waited for).
  static Result<std::optional<std::unique_ptr<PartialBlob>>> acquire(const store::Store& store,
                                                                     const store::Digest& digest, int64_t size,
                                                                     const PartPlan& plan, const CancelFlag& cancel);
  ~PartialBlob();  // releases the lock; the files stay for the next attempt
  PartialBlob(const PartialBlob&) = delete;
  PartialBlob& operator=(const PartialBlob&) = delete;

  const store::Digest& digest() const { return digest_; }
  int64_t size() const { return size_; }
  int64_t completed() const;
  bool complete() const { return completed() == size_; }
  int fd() const { return fd_; }

  // Each part is updated only by the one thread downloading it.
  std::vector<PartState>& parts() { return parts_; }
  // Records part i's progress in its JSON file (atomically replaced).
  Status save_part(size_t i) const;
  // Flushes data written so far, so the part files never claim bytes a crash could lose.
  Status sync_data() const;

  // Hashes the whole data file. On a mismatch the partial files are deleted (the bytes are
  // wrong, so resuming them is pointless) and the error says so, as Ollama's does.
  Status verify() const;
  // Moves the verified data file to blobs/sha256-<hex> and removes the part files. The caller
  // holds the store's shared lock so that no collection runs in between.
  Status commit();
  // Deletes the data and part files.
  void discard() const;

 private:
  PartialBlob(std::string blob_path, store::Digest digest, int64_t size, int fd)
      : blob_path_(std::move(blob_path)), digest_(std::move(digest)), size_(size), fd_(fd) {}
  std::string data_path() const { return blob_path_ + "-partial"; }
  std::string part_path(int n) const { return data_path() + "-" + std::to_string(n); }
  Status load_or_plan(const PartPlan& plan);
  Status start_afresh(const PartPlan& plan);

  std::string blob_path_;  // blobs/sha256-<hex>
  store::Digest digest_;
  int64_t size_ = 0;
  int fd_ = -1;  // the data file, flock'ed
  std::vector<PartState> parts_;
};

}  // namespace corral::registry
