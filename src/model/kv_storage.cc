#include "model/kv_storage.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "model/config.h"

namespace corral::model {

bool kv_type_supported(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kQ8_0 || t == DType::kQ4_0;
}

DType kv_storage_type(DType requested, int64_t head_dim) {
  const int64_t block = dtype_block_size(requested);
  return block > 1 && head_dim % block != 0 ? DType::kF16 : requested;
}

KvLayout kv_layout(const ModelConfig& c) {
  std::vector<int64_t> windows;
  for (int64_t il = 0; il < c.n_layer; ++il) windows.push_back(c.window_of_layer(il));
  std::sort(windows.begin(), windows.end());  // 0 (full attention) first
  windows.erase(std::unique(windows.begin(), windows.end()), windows.end());
  CORRAL_CHECK(windows.size() <= static_cast<size_t>(kMaxKvGroups), "{} distinct attention windows (at most {})",
               windows.size(), kMaxKvGroups);
  KvLayout l;
  l.windows = windows;
  l.group_size.assign(windows.size(), 0);
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const auto g = std::find(windows.begin(), windows.end(), c.window_of_layer(il)) - windows.begin();
    l.layer_group.push_back(static_cast<int32_t>(g));
    l.layer_slot.push_back(l.group_size[static_cast<size_t>(g)]++);
  }
  return l;
}

KvStorage::KvStorage(KvLayout layout, int64_t n_head_kv, int64_t head_dim, const std::vector<int64_t>& capacity_blocks,
                     DType type)
    : layout_(std::move(layout)),
      n_head_kv_(static_cast<size_t>(n_head_kv)),
      type_(kv_storage_type(type, head_dim)),
      row_bytes_(kv_row_bytes(type_, head_dim)),
      head_bytes_(kKvBlockTokens * row_bytes_) {
  CORRAL_CHECK(kv_type_supported(type), "KV cache type {} is not supported", dtype_name(type));
  CORRAL_CHECK(static_cast<int64_t>(capacity_blocks.size()) == layout_.n_groups(), "one capacity per KV group");
  pools_.resize(capacity_blocks.size());
  for (size_t g = 0; g < pools_.size(); ++g) {
    Pool& p = pools_[g];
    p.block_bytes = static_cast<size_t>(layout_.group_size[g]) * 2 * n_head_kv_ * head_bytes_;
    p.capacity_blocks = capacity_blocks[g];
    const size_t bytes = p.block_bytes * static_cast<size_t>(p.capacity_blocks);
    if (bytes == 0) continue;
    // MAP_NORESERVE: reserve address space only; the kernel commits pages on first touch.
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) continue;
    p.base = static_cast<std::byte*>(m);
    p.mapped_bytes = bytes;
  }
}

KvStorage::~KvStorage() {
  for (const Pool& p : pools_)
    if (p.base) munmap(p.base, p.mapped_bytes);
}

bool KvStorage::ok() const {
  return std::all_of(pools_.begin(), pools_.end(),
                     [](const Pool& p) { return p.base || p.capacity_blocks == 0 || p.block_bytes == 0; });
}

void KvStorage::copy_block(int64_t group, int64_t src, int64_t dst) const {
  const size_t bytes = block_bytes(group);
  std::byte* base = pools_[static_cast<size_t>(group)].base;
  std::memcpy(base + static_cast<size_t>(dst) * bytes, base + static_cast<size_t>(src) * bytes, bytes);
}

void KvStorage::release(int64_t group, int64_t block) const {
  // Only whole pages inside the block can be dropped; the partial pages at its ends stay
  // resident (they are shared with neighbouring blocks).
  const size_t page = 4096;
  const size_t bytes = block_bytes(group);
  uintptr_t begin = reinterpret_cast<uintptr_t>(pools_[static_cast<size_t>(group)].base + block * bytes);
  uintptr_t end = begin + bytes;
  begin = (begin + page - 1) & ~(page - 1);
  end &= ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace corral::model
