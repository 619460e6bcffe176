#include "model/kv_storage.h"

#include <sys/mman.h>

#include <cstring>

#include "base/check.h"

namespace corral::model {

bool kv_type_supported(DType t) { return t == DType::kF32 || t == DType::kF16; }

KvStorage::KvStorage(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t capacity_blocks, DType type)
    : n_head_kv_(n_head_kv),
      capacity_blocks_(capacity_blocks),
      type_(type),
      elem_bytes_(type == DType::kF16 ? 2 : 4),
      head_elems_(static_cast<size_t>(kKvBlockTokens * head_dim)),
      block_elems_(static_cast<size_t>(n_layer * 2 * n_head_kv) * head_elems_) {
  CORRAL_CHECK(kv_type_supported(type), "KV cache type {} is not supported", dtype_name(type));
  mapped_bytes_ = block_bytes() * static_cast<size_t>(capacity_blocks);
  if (mapped_bytes_ == 0) return;
  // MAP_NORESERVE: reserve address space only; the kernel commits pages on first touch.
  void* p = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    mapped_bytes_ = 0;
    return;
  }
  base_ = static_cast<std::byte*>(p);
}

KvStorage::~KvStorage() {
  if (base_) munmap(base_, mapped_bytes_);
}

void KvStorage::copy_block(int64_t src, int64_t dst) const {
  std::memcpy(base_ + dst * block_bytes(), base_ + src * block_bytes(), block_bytes());
}

void KvStorage::release(int64_t block) const {
  // Only whole pages inside the block can be dropped; the partial pages at its ends stay
  // resident (they are shared with neighbouring blocks).
  const size_t page = 4096;
  uintptr_t begin = reinterpret_cast<uintptr_t>(base_ + block * block_bytes());
  uintptr_t end = begin + block_bytes();
  begin = (begin + page - 1) & ~(page - 1);
  end &= ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace corral::model
