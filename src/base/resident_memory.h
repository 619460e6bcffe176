// Bytes (read-only once sealed) in private anonymous memory on 2 MiB-aligned, huge-page-advised pages: where
// a model's weights live once loaded (instead of a file mapping, see resident_memory.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace corral {

class ResidentMemory {
 public:
  ResidentMemory() = default;
  ~ResidentMemory();
  ResidentMemory(ResidentMemory&& o) noexcept;
  ResidentMemory& operator=(ResidentMemory&& o) noexcept;
  ResidentMemory(const ResidentMemory&) = delete;
  ResidentMemory& operator=(const ResidentMemory&) = delete;

  // Bytes [offset, offset + size) of the file at path, read with pread (not through a mapping).
  static Result<ResidentMemory> read_file(const std::string& path, size_t offset, size_t size);
  // A copy of size bytes at src.
  static Result<ResidentMemory> copy_of(const uint8_t* src, size_t size);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Writable until seal() (a loader rearranging weights in place); nullptr once sealed.
  uint8_t* writable() { return sealed_ ? nullptr : data_; }
  // Read-only from here on: a stray write faults instead of corrupting weights.
  Status seal();

 private:
  static Result<ResidentMemory> allocate(size_t size);

  uint8_t* map_ = nullptr;  // the whole anonymous mapping (map_len_ bytes)
  size_t map_len_ = 0;
  uint8_t* data_ = nullptr;  // [size_] bytes, 2 MiB-aligned inside the mapping
  size_t size_ = 0;
  bool sealed_ = false;
};

}  // namespace corral
