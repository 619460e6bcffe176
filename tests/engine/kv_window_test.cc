// Sliding-window layers keep only their window in the KV cache: syn-gemma3 (5 local layers with
// window 32, 1 global layer) holds about window + one block of positions in its local layers
// however long a sequence grows, its logits equal those of a run that keeps every position
// (swa_full), and a prefix is reused only while its window is still cached.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "base/thread_pool.h"
#include "common/test_data.h"
#include "engine/engine.h"
#include "engine/prefix_cache.h"
#include "model/model.h"

namespace corral::engine {
namespace {

using model::kKvBlockTokens;

constexpr int64_t kWindow = 32;  // syn-gemma3's attention.sliding_window

std::shared_ptr<model::Model> gemma3() {
  static auto m = model::load_model(testing::test_data_path("models/synthetic/syn-gemma3-f32.gguf"));
  EXPECT_TRUE(m.is_ok()) << m.error();
  return m.value();
}

int64_t blocks_for(int64_t tokens) { return (tokens + kKvBlockTokens - 1) / kKvBlockTokens; }
// Blocks touching the window - 1 positions a next token attends to below itself.
constexpr int64_t kWindowBlocks = (kWindow - 1 + kKvBlockTokens - 1) / kKvBlockTokens + 1;

SeqId append(KvCache& kv, SeqId s, int64_t n) {
  EXPECT_TRUE(kv.prepare_append(s, n).is_ok());
  kv.commit_append(s, n);
  return s;
}

TEST(KvWindow, LayersAreGroupedByWindowFullAttentionFirst) {
  const model::KvLayout l = gemma3()->kv_layout();
  ASSERT_EQ(l.n_groups(), 2);
  EXPECT_EQ(l.windows[0], 0);
  EXPECT_EQ(l.windows[1], kWindow);
  EXPECT_EQ(l.group_size[0], 1);
  EXPECT_EQ(l.group_size[1], 5);
  EXPECT_EQ(l.layer_group[5], 0);  // the global layer
  EXPECT_EQ(l.layer_slot[4], 4);
  // A model without windows has one group.
  auto llama = model::load_model(testing::test_data_path("models/stories260K.gguf"));
  ASSERT_TRUE(llama.is_ok());
  EXPECT_EQ(llama.value()->kv_layout().n_groups(), 1);
}

TEST(KvWindow, SlidingWindowBlocksReturnToThePoolAsTheSequenceGrows) {
  KvCache kv(*gemma3(), 1024);
  const SeqId s = kv.create();
  for (int64_t len = 0; len < 600;) {
    const int64_t n = len < 100 ? 7 : 1;  // chunks, then decode-like steps
    append(kv, s, n);
    len += n;
    EXPECT_EQ(kv.used_blocks(0), blocks_for(len)) << "the global layer keeps every position";
    EXPECT_LE(kv.used_blocks(1), kWindowBlocks) << "at " << len;
    // The table still maps positions to blocks: the window's are there, older ones are -1.
    const std::vector<int32_t>& t = kv.blocks(s, 1);
    ASSERT_EQ(static_cast<int64_t>(t.size()), blocks_for(len));
    const int64_t first = std::max<int64_t>(0, len - kWindow + 1) / kKvBlockTokens;
    for (int64_t b = 0; b < blocks_for(len); ++b) EXPECT_EQ(t[b] >= 0, b >= first) << b << " at " << len;
  }
  EXPECT_EQ(kv.used_bytes(), kv.used_blocks(0) * kv.block_bytes(0) + kv.used_blocks(1) * kv.block_bytes(1));
  EXPECT_EQ(kv.block_bytes(1), 5 * kv.block_bytes(0));
  kv.free(s);
  EXPECT_EQ(kv.used_blocks(0), 0);
  EXPECT_EQ(kv.used_blocks(1), 0);
}

TEST(KvWindow, SwaFullKeepsEveryPosition) {
  KvSizing sizing{1024};
  sizing.swa_full = true;
  KvCache kv(*gemma3(), sizing);
  const SeqId s = append(kv, kv.create(), 300);
  EXPECT_EQ(kv.used_blocks(1), blocks_for(300));
  EXPECT_TRUE(kv.resumable(s, 10));
}

TEST(KvWindow, ASequenceResumesOnlyWhereItsWindowIsHeld) {
  KvCache kv(*gemma3(), 1024);
  const SeqId s = append(kv, kv.create(), 200);
  EXPECT_TRUE(kv.resumable(s, 200));
  // The next token sees positions [169, 200]: blocks from 10 (position 160) on are held.
  // Lengths whose window starts in a returned block cannot be continued.
  EXPECT_TRUE(kv.resumable(s, 160 + kWindow - 1));
  EXPECT_FALSE(kv.resumable(s, 160 + kWindow - 2));
  EXPECT_FALSE(kv.resumable(s, 100));
  const SeqId f = kv.fork(s, 195);
  EXPECT_EQ(kv.length(f), 195);
  EXPECT_EQ(kv.blocks(f, 0), kv.blocks(s, 0)) << "the global layer's blocks are shared";
  // The fork continues (copy-on-write of the partial block) and frees like any sequence.
  append(kv, f, 40);
  EXPECT_EQ(kv.blocks(f, 0)[0], kv.blocks(s, 0)[0]);
  kv.truncate(s, 195);
  EXPECT_EQ(kv.length(s), 195);
  kv.free(s);
  kv.free(f);
  EXPECT_EQ(kv.used_blocks(0) + kv.used_blocks(1), 0);
}

TEST(KvWindow, PrefixReuseNeedsTheWindowOfThePrefix) {
  KvCache kv(*gemma3(), 4096);
  PrefixCache pc(kv, 4);
  std::vector<int32_t> conv(200);
  std::iota(conv.begin(), conv.end(), 1);
  pc.keep(append(kv, kv.create(), 200), conv);
  // A prompt that shares only the first 100 tokens: their window is gone, nothing is reused.
  std::vector<int32_t> early(conv.begin(), conv.begin() + 100);
  early.push_back(999);
  const PrefixCache::Start fresh = pc.start(early, {});
  EXPECT_EQ(fresh.reused, 0u);
  EXPECT_EQ(kv.length(fresh.kv), 0);
  kv.free(fresh.kv);
  // The conversation goes on from where it stopped: everything is reused.
  std::vector<int32_t> next = conv;
  next.insert(next.end(), {900, 901, 902});
  const PrefixCache::Start on = pc.start(next, {});
  EXPECT_EQ(on.reused, 200u);
  // So is a running sequence's prefix, while it is within the window.
  const PrefixCache::Start shared = pc.start(next, {HeldPrefix{on.kv, &conv, 200}});
  EXPECT_EQ(shared.reused, 200u);
  kv.free(on.kv);
  kv.free(shared.kv);
}

TEST(KvWindow, PoolsAreSizedForEachSlotsWindowPlusAStep) {
  const model::KvLayout l = gemma3()->kv_layout();
  KvSizing s{4 * 4096, 4, 512};
  const std::vector<int64_t> blocks = kv_capacity_blocks(l, s);
  EXPECT_EQ(blocks[0], 4 * 4096 / kKvBlockTokens);
  EXPECT_EQ(blocks[1], 4 * (blocks_for(kWindow - 1) + 2) + 512 / kKvBlockTokens);
  s.swa_full = true;
  EXPECT_EQ(kv_capacity_blocks(l, s)[1], blocks[0]);
  // Never more than a full cache: short contexts keep their whole context.
  EXPECT_EQ(kv_capacity_blocks(l, KvSizing{64, 4, 512})[1], 4);
  EXPECT_LT(kv_capacity_bytes(*gemma3(), KvSizing{4 * 4096, 4, 512}, DType::kF32),
            kv_capacity_bytes(*gemma3(), KvSizing{4 * 4096}, DType::kF32) / 3);
}

// Logits of every step of a long sequence (a prompt in chunks, then many decode steps), next to
// 3 other sequences, with the window's blocks freed vs kept: identical, while the sliding-window
// pool stays within a window per sequence.
TEST(KvWindow, LogitsEqualAFullCacheWhileMemoryStaysBounded) {
  auto m = gemma3();
  const int64_t V = m->config().n_vocab;
  auto run = [&](bool swa_full, int64_t* peak_swa_blocks) {
    EngineConfig cfg;
    cfg.kv_capacity_tokens = 4 * 512;
    cfg.kv_sequences = 4;
    cfg.kv_step_tokens = 64;
    cfg.kv_swa_full = swa_full;
    Engine eng(m, cfg, ThreadPool::global());
    std::vector<SeqId> seqs;
    for (int i = 0; i < 4; ++i) seqs.push_back(eng.kv().create());
    std::vector<std::vector<float>> out;  // every step's logits of all four
    std::vector<int32_t> last(4, 0);
    *peak_swa_blocks = 0;
    for (int step = 0; step < 40; ++step) {
      std::vector<SeqFeed> feeds;
      for (int i = 0; i < 4; ++i) {
        SeqFeed f{seqs[i], {}, Outputs::kLast};
        if (step < 2 + i) {  // prompts of different lengths, in chunks of 16
          for (int j = 0; j < 16; ++j) f.tokens.push_back(static_cast<int32_t>((step * 16 + j) * 31 % (V - 3) + 3));
        } else {
          f.tokens.push_back(last[i]);
        }
        feeds.push_back(std::move(f));
      }
      std::vector<float> logits;
      eng.eval(feeds, &logits);
      for (int i = 0; i < 4; ++i)
        last[i] = static_cast<int32_t>(std::max_element(logits.begin() + i * V, logits.begin() + (i + 1) * V) -
                                       (logits.begin() + i * V));
      out.push_back(std::move(logits));
      *peak_swa_blocks = std::max(*peak_swa_blocks, eng.kv().used_blocks(1));
    }
    for (SeqId s : seqs) EXPECT_EQ(eng.kv().length(s), eng.kv().length(seqs[0]) + (s - seqs[0]) * 15);
    return out;
  };
  int64_t peak_window = 0, peak_full = 0;
  const auto windowed = run(false, &peak_window);
  const auto full = run(true, &peak_full);
  ASSERT_EQ(windowed.size(), full.size());
  for (size_t i = 0; i < full.size(); ++i)
    ASSERT_EQ(std::memcmp(windowed[i].data(), full[i].data(), full[i].size() * sizeof(float)), 0) << "step " << i;
  EXPECT_LE(peak_window, 4 * (kWindowBlocks + 1));
  EXPECT_GT(peak_full, 4 * 5);  // sequences of 70-110 positions: 5-7 blocks each
}

}  // namespace
}  // namespace corral::engine
