#include "model/kv_storage.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <numeric>

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

namespace {

// Blocks per extent for pieces of head_bytes: the fewest that make a run of whole pages (so
// extents start on page boundaries and release exactly), doubled until a run is at least
// kMinExtentRunBytes. Head dim 64: q8_0 64 blocks (68 KB runs), q4_0 128 (72 KB), f16 32, f32 16.
int64_t extent_blocks(size_t head_bytes) {
  if (head_bytes == 0) return 1;
  const size_t page = 4096;
  int64_t n = static_cast<int64_t>(page / std::gcd(head_bytes, page));
  while (static_cast<size_t>(n) * head_bytes < kMinExtentRunBytes) n *= 2;
  return n;
}

}  // namespace

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
    p.extent_blocks = extent_blocks(head_bytes_);
    // Whole extents: the last one's unused blocks are address space only.
    const int64_t extents = (p.capacity_blocks + p.extent_blocks - 1) / p.extent_blocks;
    const size_t bytes = p.block_bytes * static_cast<size_t>(extents * p.extent_blocks);
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
  const Pool& p = pools_[static_cast<size_t>(group)];
  for (size_t slot = 0; slot < static_cast<size_t>(layout_.group_size[static_cast<size_t>(group)]); ++slot)
    for (int64_t h = 0; h < static_cast<int64_t>(n_head_kv_); ++h)
      for (int64_t kv = 0; kv < 2; ++kv)
        std::memcpy(piece(p, dst, slot, h, kv), piece(p, src, slot, h, kv), head_bytes_);
}

void KvStorage::release_extent(int64_t group, int64_t extent) const {
  // An extent is whole pages (extent_blocks) from a page-aligned mapping: all of it drops.
  const Pool& p = pools_[static_cast<size_t>(group)];
  const size_t bytes = static_cast<size_t>(p.extent_blocks) * p.block_bytes;
  if (bytes > 0) madvise(p.base + static_cast<size_t>(extent) * bytes, bytes, MADV_DONTNEED);
}

}  // namespace corral::model
