// Paged storage for the keys and values of every sequence of one model. Storage is a pool of
// fixed-size blocks of kKvBlockTokens positions; a block holds K and V of every layer for those
// positions. The engine decides which blocks a sequence owns (engine/kv_cache); the model only
// reads and writes through block tables.
//
// Address space for the whole capacity is reserved up front, but pages become resident only
// when first written, so memory grows with the tokens actually cached (Ollama reserves
// num_ctx x parallel up front). release() hands a freed block's pages back to the OS.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace corral::model {

// 16 positions per block: small enough that a sequence wastes < 16 positions of KV, large
// enough that attention streams contiguous [16][head_dim] runs. Prefix sharing between
// sequences works at this granularity.
constexpr int kKvBlockTokens = 16;

// Element types a KV pool can hold: F32 (exact: what the reference outputs were computed with)
// or F16 (half the memory, Ollama's and llama.cpp's default; rounding K and V costs up to 7e-7
// nMSE on F32 models and can flip near-tied greedy choices).
bool kv_type_supported(DType t);

class KvStorage {
 public:
  KvStorage(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t capacity_blocks, DType type = DType::kF32);
  ~KvStorage();
  KvStorage(const KvStorage&) = delete;
  KvStorage& operator=(const KvStorage&) = delete;

  int64_t capacity_blocks() const { return capacity_blocks_; }
  DType type() const { return type_; }
  size_t block_bytes() const { return block_elems_ * elem_bytes_; }
  // false if the reservation failed (a pool of zero-byte blocks, an encoder's, needs none)
  bool ok() const { return base_ != nullptr || block_elems_ == 0; }

  // K of (block, layer, kv head): [kKvBlockTokens][head_dim] elements of type().
  void* k(int64_t block, int64_t layer, int64_t head) const {
    return at(block * block_elems_ + (layer * 2 * n_head_kv_ + head) * head_elems_);
  }
  // V of (block, layer, kv head): [kKvBlockTokens][head_dim] elements of type().
  void* v(int64_t block, int64_t layer, int64_t head) const {
    return at(block * block_elems_ + ((layer * 2 + 1) * n_head_kv_ + head) * head_elems_);
  }
  // Copies every layer's K and V of block `src` to block `dst` (copy-on-write of a shared
  // partial block).
  void copy_block(int64_t src, int64_t dst) const;
  // Returns the block's physical pages to the OS; its contents become zero.
  void release(int64_t block) const;

 private:
  void* at(size_t element) const { return base_ + element * elem_bytes_; }

  int64_t n_head_kv_;
  int64_t capacity_blocks_;
  DType type_;
  size_t elem_bytes_;   // 4 (F32) or 2 (F16)
  size_t head_elems_;   // kKvBlockTokens * head_dim
  size_t block_elems_;  // n_layer * 2 * n_head_kv * head_elems_
  std::byte* base_ = nullptr;
  size_t mapped_bytes_ = 0;
};

}  // namespace corral::model
