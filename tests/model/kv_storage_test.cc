// KvStorage's extent layout: every (block, layer, head, K/V) piece is its own bytes, one
// (layer, head, K/V)'s pieces of an extent's blocks lie side by side, copy_block copies every
// piece, and release_extent zeroes exactly its own extent.
#include "model/kv_storage.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

namespace corral::model {
namespace {

// Two KV groups (3 full-attention layers, 2 sliding-window ones interleaved), 2 KV heads.
KvLayout two_groups() {
  KvLayout l;
  l.windows = {0, 64};
  l.group_size = {3, 2};
  l.layer_group = {0, 1, 0, 1, 0};
  l.layer_slot = {0, 0, 1, 1, 2};
  return l;
}

constexpr int64_t kHeads = 2, kHeadDim = 64;

class KvStorageLayout : public ::testing::TestWithParam<DType> {};

TEST_P(KvStorageLayout, PiecesAreDisjointAndAnExtentsRunsAreContiguous) {
  const std::vector<int64_t> capacity = {150, 70};
  KvStorage kv(two_groups(), kHeads, kHeadDim, capacity, GetParam());
  ASSERT_TRUE(kv.ok());
  const size_t piece = kKvBlockTokens * kv.row_bytes();
  EXPECT_EQ(kv.block_bytes(0), 3 * 2 * kHeads * piece);
  for (int64_t g = 0; g < kv.n_groups(); ++g) {
    const int64_t per = kv.blocks_per_extent(g);
    // Runs of whole pages, at least kMinExtentRunBytes long.
    EXPECT_EQ(static_cast<size_t>(per) * piece % 4096, 0u) << "group " << g;
    EXPECT_GE(static_cast<size_t>(per) * piece, kMinExtentRunBytes);
  }
  std::map<const std::byte*, int> starts;  // piece start -> count
  const std::byte* lowest = nullptr;
  const std::byte* highest = nullptr;
  for (int64_t il = 0; il < 5; ++il) {
    const int64_t g = kv.group_of(il);
    for (int64_t b = 0; b < capacity[static_cast<size_t>(g)]; ++b)
      for (int64_t h = 0; h < kHeads; ++h)
        for (const void* p : {kv.k(b, il, h), kv.v(b, il, h)}) {
          const auto* c = static_cast<const std::byte*>(p);
          ++starts[c];
          if (g == 0) {
            lowest = lowest ? std::min(lowest, c) : c;
            highest = highest ? std::max(highest, c) : c;
          }
          // Within an extent the next block's piece follows this one's.
          if ((b + 1) % kv.blocks_per_extent(g) != 0 && b + 1 < capacity[static_cast<size_t>(g)]) {
            EXPECT_EQ(static_cast<const std::byte*>(kv.k(b + 1, il, h)) - static_cast<const std::byte*>(kv.k(b, il, h)),
                      static_cast<std::ptrdiff_t>(piece));
          }
        }
  }
  // Every piece starts at its own address, at least a piece after the one before it.
  const std::byte* prev = nullptr;
  for (const auto& [start, count] : starts) {
    EXPECT_EQ(count, 1);
    if (prev) { EXPECT_GE(start - prev, static_cast<std::ptrdiff_t>(piece)); }
    prev = start;
  }
  // Group 0's pieces lie within its whole extents.
  const int64_t per = kv.blocks_per_extent(0);
  EXPECT_LE(static_cast<size_t>(highest - lowest) + piece,
            static_cast<size_t>((capacity[0] + per - 1) / per * per) * kv.block_bytes(0));
}

TEST_P(KvStorageLayout, CopyBlockCopiesEveryLayerAndHead) {
  // Both groups hold dst (q4_0's second extent starts at block 128), so group 1's untouched
  // copy can be read.
  KvStorage kv(two_groups(), kHeads, kHeadDim, {150, 150}, GetParam());
  const size_t piece = kKvBlockTokens * kv.row_bytes();
  const int64_t src = 3, dst = kv.blocks_per_extent(0) + 5;  // another extent
  for (int64_t il = 0; il < 5; ++il)
    for (int64_t h = 0; h < kHeads; ++h) {
      std::memset(kv.k(src, il, h), static_cast<int>(1 + il * 4 + h * 2), piece);
      std::memset(kv.v(src, il, h), static_cast<int>(2 + il * 4 + h * 2), piece);
    }
  kv.copy_block(0, src, dst);
  for (int64_t il = 0; il < 5; ++il)
    for (int64_t h = 0; h < kHeads; ++h) {
      const bool copied = kv.group_of(il) == 0;
      for (int64_t side = 0; side < 2; ++side) {
        const void* from = side == 0 ? kv.k(src, il, h) : kv.v(src, il, h);
        const void* to = side == 0 ? kv.k(dst, il, h) : kv.v(dst, il, h);
        EXPECT_EQ(std::memcmp(from, to, piece) == 0, copied) << "layer " << il << " head " << h << " side " << side;
      }
    }
}

TEST_P(KvStorageLayout, ReleaseExtentZeroesOnlyItsOwnBlocks) {
  KvStorage kv(two_groups(), kHeads, kHeadDim, {150, 70}, GetParam());
  const size_t piece = kKvBlockTokens * kv.row_bytes();
  const int64_t per = kv.blocks_per_extent(0);
  const std::vector<int64_t> blocks = {0, per - 1, per, 2 * per - 1};
  for (int64_t b : blocks)
    for (int64_t il = 0; il < 5; il += 2)  // group 0's layers
      for (int64_t h = 0; h < kHeads; ++h) {
        std::memset(kv.k(b, il, h), 0x5A, piece);
        std::memset(kv.v(b, il, h), 0x5A, piece);
      }
  kv.release_extent(0, 1);
  const std::vector<std::byte> zero(piece), marked(piece, std::byte{0x5A});
  for (int64_t b : blocks)
    for (int64_t il = 0; il < 5; il += 2)
      for (int64_t h = 0; h < kHeads; ++h) {
        const std::vector<std::byte>& want = b >= per ? zero : marked;
        EXPECT_EQ(std::memcmp(kv.k(b, il, h), want.data(), piece), 0) << "block " << b;
        EXPECT_EQ(std::memcmp(kv.v(b, il, h), want.data(), piece), 0) << "block " << b;
      }
}

INSTANTIATE_TEST_SUITE_P(Types, KvStorageLayout,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace corral::model
