#include "base/resident_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace corral {
namespace {

// Transparent huge pages are 2 MiB on x86-64. Weights read through 4 KiB pages of a file
// mapping cost one TLB entry per 4 KiB: a decode step streams every weight byte once, and on a
// 2 GB model (3B Q4_K_M) the TLB misses held reads to ~11-12 tok/s where the same bytes on
// huge pages run at 14.5 (AMD EPYC, 2 threads, docs/performance.md). The region starts on a
// 2 MiB boundary so that every page of it can be huge.
constexpr size_t kHugePage = size_t{2} << 20;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

ResidentMemory::~ResidentMemory() {
  if (map_) munmap(map_, map_len_);
}

ResidentMemory::ResidentMemory(ResidentMemory&& o) noexcept
    : map_(std::exchange(o.map_, nullptr)),
      map_len_(std::exchange(o.map_len_, 0)),
      data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      sealed_(std::exchange(o.sealed_, false)) {}

ResidentMemory& ResidentMemory::operator=(ResidentMemory&& o) noexcept {
  if (this != &o) {
    if (map_) munmap(map_, map_len_);
    map_ = std::exchange(o.map_, nullptr);
    map_len_ = std::exchange(o.map_len_, 0);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    sealed_ = std::exchange(o.sealed_, false);
  }
  return *this;
}

Result<ResidentMemory> ResidentMemory::allocate(size_t size) {
  ResidentMemory m;
  m.size_ = size;
  if (size == 0) return m;
  // One huge page more than needed, so that an aligned start always fits.
  m.map_len_ = round_up(size, kHugePage) + kHugePage;
  void* p = mmap(nullptr, m.map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    m.map_len_ = 0;
    return Status::exhausted(fmt::format("cannot allocate {} bytes for weights: {}", size, std::strerror(e)));
  }
  m.map_ = static_cast<uint8_t*>(p);
  m.data_ = reinterpret_cast<uint8_t*>(round_up(reinterpret_cast<uintptr_t>(m.map_), kHugePage));
  // Advice only: where transparent huge pages are off this is plain memory, still correct.
  madvise(m.data_, round_up(size, kHugePage), MADV_HUGEPAGE);
  return m;
}

Status ResidentMemory::seal() {
  if (sealed_) return Status::ok();
  if (map_ && mprotect(map_, map_len_, PROT_READ) != 0)
    return Status::internal(fmt::format("cannot make weights read-only: {}", std::strerror(errno)));
  sealed_ = true;
  return Status::ok();
}

Result<ResidentMemory> ResidentMemory::read_file(const std::string& path, size_t offset, size_t size) {
  auto m = allocate(size);
  if (!m) return m.status();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::errorf(StatusCode::kInternal, "cannot open {}: {}", path, std::strerror(errno));
  size_t got = 0;
  while (got < size) {
    const ssize_t r = ::pread(fd, m->data_ + got, size - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int e = r < 0 ? errno : 0;
      ::close(fd);
      return Status::errorf(StatusCode::kInternal, "cannot read {} bytes at offset {} of {}: {}", size, offset, path,
                            e ? std::strerror(e) : "the file is shorter than when it was opened");
    }
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  return m;
}

Result<ResidentMemory> ResidentMemory::copy_of(const uint8_t* src, size_t size) {
  auto m = allocate(size);
  if (!m) return m.status();
  if (size) std::memcpy(m->data_, src, size);
  return m;
}

}  // namespace corral
