// The store's file-system primitives: size-bounded reads, atomic replacement (temp file in the
// same directory, fsync, rename), pruning of empty directories, and the store-wide lock.
// Everything reports errors as Status with the path and errno text.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace corral::store {

// Whole file, refused (without reading it) when larger than `max_bytes`.
Result<std::string> read_file_bounded(const std::string& path, int64_t max_bytes);

struct FileStat {
  bool exists = false;
  bool is_regular = false;
  bool is_dir = false;
  int64_t size = 0;
  std::chrono::system_clock::time_point mtime;
};
// Follows symlinks (Ollama's os.Stat does too). A missing file is not an error: exists=false.
Result<FileStat> stat_path(const std::string& path);

// mkdir -p with mode 0755 (as Ollama's os.MkdirAll).
Status make_dirs(const std::string& path);

// A unique, invisible-to-Ollama file name in `dir` for a write in progress. It starts with '.',
// which no model-name part and no digest can, so neither Ollama's nor corral's listing ever
// mistakes it for a manifest or a blob.
std::string temp_path_in(const std::string& dir, std::string_view hint);

// Writes `bytes` to a temp file next to `path`, fsyncs it, gives it mode 0644 and renames it over
// `path`: readers see the old file or the new one, never a partial one.
Status write_file_atomic(const std::string& path, std::string_view bytes);

// Removes `dir`, then its parents, while they are empty, stopping at (and never removing) `stop`.
void prune_empty_dirs(std::string dir, const std::string& stop);

// An advisory lock (flock) on a directory: shared by writers that add references to blobs (create,
// copy, write_manifest), exclusive for remove's delete-and-collect. flock locks belong to the open
// file description, so two locks in one process conflict exactly as across processes.
class DirLock {
 public:
  enum class Mode { kShared, kExclusive };
  static Result<DirLock> acquire(const std::string& dir, Mode mode);
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirLock& operator=(DirLock&& o) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace corral::store
