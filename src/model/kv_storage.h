// Paged storage for the keys and values of every sequence of one model. Layers that attend
// over the same window form a KV group (KvLayout): full-attention layers one, sliding-window
// layers another (gemma3, gpt-oss). Each group has its own pool of fixed-size blocks of
// kKvBlockTokens positions, a block holding K and V of every layer of the group for those
// positions, so a sequence can give back its sliding-window layers' old blocks while its
// full-attention layers keep theirs. The engine decides which blocks a sequence owns
// (engine/kv_cache); the model only reads and writes through block tables, one per group.
//
// In memory, consecutive blocks form extents (blocks_per_extent): inside an extent, one
// (layer, K or V, KV head)'s pieces of all its blocks lie side by side, so attention over a
// sequence whose blocks are consecutive reads each layer and head's keys as one contiguous
// stretch of at least kMinExtentRunBytes that the hardware prefetcher follows page after page.
// With a block's pieces side by side instead (a 1,088-byte piece of a q8_0 head, then a jump
// of a whole block), each piece was a new page's first touch and the kernel waited on memory:
// 1B shape, 8 sequences x 4,096 positions, q8_0, AVX-512: a decode step 110-117 -> 87-92 ms,
// f16 211 -> ~120 ms (long_context_bench, AMD EPYC, 2026-12-07).
//
// Address space for the whole capacity is reserved up front, but pages become resident only
// when first written, so memory grows with the tokens actually cached (Ollama reserves
// num_ctx x parallel up front). release_extent() hands an extent's pages back to the OS once
// none of its blocks is in use (the cache hands out the lowest free block first, so the blocks
// in use stay packed into few extents).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/dtype.h"

namespace corral::model {

struct ModelConfig;

// 16 positions per block: small enough that a sequence wastes < 16 positions of KV, large
// enough that attention streams contiguous [16][head_dim] runs. Prefix sharing between
// sequences works at this granularity.
constexpr int kKvBlockTokens = 16;

// Shortest contiguous stretch of one (layer, K/V, head) in an extent: 16 pages. The hardware
// prefetcher stops at page boundaries and learns each run anew; f16 at 8 x 4,096 positions took
// 142-156 ms a step with 16 KB runs, 128 with 64 KB (q8_0's runs are 68 KB either way).
constexpr size_t kMinExtentRunBytes = 65536;

// Distinct attention windows a model may have; every architecture has at most two (full and
// one sliding window), so 4 leaves room without making block tables dynamic.
constexpr int kMaxKvGroups = 4;

// Element types a KV pool can hold: F32 (exact: what the reference outputs were computed with),
// F16 (half the memory, Ollama's and llama.cpp's default; rounding K and V costs up to 7e-7
// nMSE on F32 models and can flip near-tied greedy choices), Q8_0 and Q4_0 (llama.cpp's
// 32-element blocks: 34 and 18 bytes per 32 elements, 0.53x and 0.28x of F16; only for
// head_dim a multiple of 32, see kv_storage_type).
bool kv_type_supported(DType t);
// The type a pool of head_dim-wide K/V rows holds when `requested` is asked for: a quantized
// type whose block does not divide head_dim falls back to F16 (as Ollama falls back to f16 where
// its quantized cache cannot be used).
DType kv_storage_type(DType requested, int64_t head_dim);
// Bytes of one position's K (or V) row of one KV head: head_dim elements of type t.
inline size_t kv_row_bytes(DType t, int64_t head_dim) { return dtype_row_bytes(t, head_dim); }

// Which layers share a block table. Groups are ordered full attention first (when any layer
// has it), then sliding windows from the smallest.
struct KvLayout {
  std::vector<int64_t> windows;      // [n_groups] 0 = full causal attention, else the window
  std::vector<int32_t> group_size;   // [n_groups] layers in the group
  std::vector<int32_t> layer_group;  // [n_layer] the layer's group
  std::vector<int32_t> layer_slot;   // [n_layer] the layer's index within its group

  int64_t n_groups() const { return static_cast<int64_t>(windows.size()); }
};

// The layout of a model's layers by ModelConfig::layer_window.
KvLayout kv_layout(const ModelConfig& c);

class KvStorage {
 public:
  // capacity_blocks: [n_groups] blocks of each group's pool; type: the requested element type
  // (the pool holds kv_storage_type(type, head_dim)).
  KvStorage(KvLayout layout, int64_t n_head_kv, int64_t head_dim, const std::vector<int64_t>& capacity_blocks,
            DType type = DType::kF32);
  ~KvStorage();
  KvStorage(const KvStorage&) = delete;
  KvStorage& operator=(const KvStorage&) = delete;

  const KvLayout& layout() const { return layout_; }
  int64_t n_groups() const { return layout_.n_groups(); }
  int64_t group_of(int64_t layer) const { return layout_.layer_group[static_cast<size_t>(layer)]; }
  int64_t capacity_blocks(int64_t group) const { return pools_[static_cast<size_t>(group)].capacity_blocks; }
  DType type() const { return type_; }
  size_t block_bytes(int64_t group) const { return pools_[static_cast<size_t>(group)].block_bytes; }
  // Bytes of one position's K (or V) row of one head: rows of a block sit this far apart.
  size_t row_bytes() const { return row_bytes_; }
  // false if a reservation failed (a pool of zero-byte blocks, an encoder's, needs none)
  bool ok() const;

  // K of (block of the layer's group, layer, kv head): [kKvBlockTokens] rows of row_bytes(), each
  // head_dim elements of type().
  void* k(int64_t block, int64_t layer, int64_t head) const { return at(block, layer, head, 0); }
  // V of (block of the layer's group, layer, kv head): as k().
  void* v(int64_t block, int64_t layer, int64_t head) const { return at(block, layer, head, 1); }
  // Copies every layer's K and V of block `src` of a group to block `dst` (copy-on-write of a
  // shared partial block).
  void copy_block(int64_t group, int64_t src, int64_t dst) const;
  // Blocks b with the same b / blocks_per_extent(group) form one extent.
  int64_t blocks_per_extent(int64_t group) const { return pools_[static_cast<size_t>(group)].extent_blocks; }
  // Returns the pages of an extent none of whose blocks is in use to the OS; its contents
  // become zero.
  void release_extent(int64_t group, int64_t extent) const;

 private:
  struct Pool {
    std::byte* base = nullptr;
    size_t mapped_bytes = 0;
    size_t block_bytes = 0;     // group_size * 2 * n_head_kv * head_bytes_
    int64_t extent_blocks = 1;  // blocks per extent: extent_blocks * head_bytes_ is whole pages
    int64_t capacity_blocks = 0;
  };
  void* at(int64_t block, int64_t layer, int64_t head, int64_t kv) const {
    return piece(pools_[static_cast<size_t>(layout_.layer_group[static_cast<size_t>(layer)])], block,
                 static_cast<size_t>(layout_.layer_slot[static_cast<size_t>(layer)]), head, kv);
  }
  // Extent e = block / extent_blocks starts at e * extent_blocks * block_bytes; in it the
  // runs of (slot, K/V, head) follow each other, each [extent_blocks][kKvBlockTokens] rows.
  void* piece(const Pool& p, int64_t block, size_t slot, int64_t head, int64_t kv) const {
    const size_t per = static_cast<size_t>(p.extent_blocks);
    const size_t b = static_cast<size_t>(block);
    const size_t run = (slot * 2 + static_cast<size_t>(kv)) * n_head_kv_ + static_cast<size_t>(head);
    return p.base + b / per * per * p.block_bytes + (run * per + b % per) * head_bytes_;
  }

  KvLayout layout_;
  size_t n_head_kv_;
  DType type_;
  size_t row_bytes_;         // one position of one head: head_dim elements of type_
  size_t head_bytes_;        // kKvBlockTokens * row_bytes_: one (block, layer, head, K or V)
  std::vector<Pool> pools_;  // [n_groups]
};

}  // namespace corral::model
