#include "kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

#include "base/check.h"
#include "kernels/api.h"

namespace corral::kernels {
namespace {

// Cache-line alignment for the encoded activations; also the widest SIMD load (AVX-512).
constexpr size_t kAlign = 64;

// Weight rows per work item beyond decode: up to kMaxRowChunk, halved (down to kMinRowChunk)
// until every thread gets kItemsPerThread items to balance. Large items matter: SIMD gemm
// kernels prepare the activations of each call (repacking, block sums) before streaming the
// weights, and that costs as much as the dot products of 16 rows would (+25% time at n = 8,
// +50% at n = 64 with 16-row calls on AVX-512). Always a multiple of 16, so kernels taking 4,
// 8 or 16 rows at a time only see a ragged tail at the end of the matrix.
constexpr int64_t kMaxRowChunk = 128;
constexpr int64_t kMinRowChunk = 16;
constexpr int64_t kItemsPerThread = 8;

// Decode (up to kStreamingColumns activation rows) streams every weight from DRAM once, and
// the stream runs fastest in long contiguous pieces: each item a thread takes restarts the
// hardware prefetcher's ramp. So there each thread gets about kStreamingItemsPerThread items
// of whole 16-row groups, however large (a 128256-row output matrix on 2 threads: 8 items of
// 16,032 rows instead of 1,002 of 128). Measured on the 1B Q4_K_M file with the two chunkings
// alternating token by token in one process (matmul time per token): n = 1 -6% to -10% (fast
// phases of the VM) and -2% to -3% (slow ones), n = 2 -12%, 4 -8%, 8 -6%, 16 -2%; 1, 2 or 4
// items per thread within 1.5% of each other, so 4 keeps some balance against a preempted
// thread. At prefill (n = 512) the same chunking measured -0.4% and -0.9% (two runs), within
// the noise: prefill keeps its chunking.
constexpr int64_t kStreamingColumns = 16;
constexpr int64_t kStreamingItemsPerThread = 4;

// Activation bytes per n-tile. A tile plus the few weight rows a kernel works on at a time
// (kernels run through an item's rows in bands of at most 16) fits a core's L2 (256 KiB on old
// x86, 1-2 MiB on current), so in prefill each weight band is streamed from memory once per
// tile rather than once per token, and the tile is re-read from L2.
constexpr size_t kActivationTileBytes = 256 * 1024;

// Elements encoded per quantization task: a decode step's single row stays on the calling
// thread, since waking the workers costs more than encoding a few thousand values.
constexpr int64_t kQuantizeGrainElements = 1 << 15;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t row_chunk(int64_t m, int threads, int64_t n) {
  if (n <= kStreamingColumns) return std::max<int64_t>(1, ceil_div(m, threads * kStreamingItemsPerThread * 16)) * 16;
  int64_t chunk = kMaxRowChunk;
  while (chunk > kMinRowChunk && ceil_div(m, chunk) < kItemsPerThread * threads) chunk /= 2;
  return chunk;
}

}  // namespace

void MatmulScratch::AlignedFree::operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{kAlign}); }

void* MatmulScratch::reserve(size_t bytes) {
  if (bytes > capacity_) {
    buffer_.reset(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{kAlign})));
    capacity_ = bytes;
  }
  return buffer_.get();
}

const QuantizedActivations& quantize_activations(DType activation_type, const float* x, int64_t n, int64_t k,
                                                 ThreadPool& pool, MatmulScratch& scratch) {
  const int64_t block = dtype_block_size(activation_type);
  CORRAL_CHECK(block > 0 && k % block == 0, "k = {} is not a multiple of the {} block size", k,
               dtype_name(activation_type));
  QuantizedActivations& qa = scratch.activations_;
  qa.type = activation_type;
  qa.n = n;
  qa.k = k;
  qa.row_bytes = dtype_row_bytes(activation_type, k);
  if (activation_type == DType::kF32) {
    qa.data = x;
    return qa;
  }
  const QuantizeRowFn quantize = active().quantize_row[static_cast<uint32_t>(activation_type)];
  CORRAL_CHECK(quantize != nullptr, "no quantizer for {}", dtype_name(activation_type));
  auto* out = static_cast<uint8_t*>(scratch.reserve(static_cast<size_t>(n) * qa.row_bytes));
  const size_t row_bytes = qa.row_bytes;
  pool.parallel_for(n, std::max<int64_t>(1, kQuantizeGrainElements / std::max<int64_t>(1, k)),
                    [&](int64_t begin, int64_t end) {
                      for (int64_t j = begin; j < end; ++j) { quantize(x + j * k, out + j * row_bytes, k); }
                    });
  qa.data = out;
  return qa;
}

bool can_interleave(DType t) { return active().gemm_interleaved[static_cast<uint32_t>(t)] != nullptr; }

namespace {

// The largest block of a dword-interleaved type (Q6_K: 210 bytes), for get_row's stack copy.
constexpr size_t kMaxDwordBlockBytes = 256;

// How one row's block maps into its block step in a full group of a dword-interleaved type
// (api.h interleaves_dwords): `head` bytes at r * head, then whole dwords, dword j at
// dwords_at + 64 * slot(j) + 4 r, then the `tail` bytes at tail_at + r * tail.
struct DwordSteps {
  DType type;
  size_t head, whole, tail;  // bytes, dwords, bytes of a block
  size_t dwords_at, tail_at;

  DwordSteps(DType t, size_t block)
      : type(t),
        head(static_cast<size_t>(interleaved_head_bytes(t))),
        whole((block - head) / 4),
        tail(block - head - 4 * whole),
        dwords_at(kInterleaveRows * head),
        tail_at(dwords_at + 4 * kInterleaveRows * whole) {}

  size_t dword_at(size_t j, size_t r) const {
    return dwords_at +
           4 * kInterleaveRows * static_cast<size_t>(interleaved_dword_slot(type, static_cast<int64_t>(j))) + 4 * r;
  }
  // Row r's block (row order, `block`) into the step, and back.
  void scatter(const uint8_t* block, size_t r, uint8_t* step) const {
    std::memcpy(step + r * head, block, head);
    for (size_t j = 0; j < whole; ++j) std::memcpy(step + dword_at(j, r), block + head + 4 * j, 4);
    std::memcpy(step + tail_at + r * tail, block + head + 4 * whole, tail);
  }
  void gather(const uint8_t* step, size_t r, uint8_t* block) const {
    std::memcpy(block, step + r * head, head);
    for (size_t j = 0; j < whole; ++j) std::memcpy(block + head + 4 * j, step + dword_at(j, r), 4);
    std::memcpy(block + head + 4 * whole, step + tail_at + r * tail, tail);
  }
};

}  // namespace

void interleave_rows(DType t, void* data, int64_t rows, size_t row_stride) {
  CORRAL_CHECK(can_interleave(t), "no interleaved gemm for {}", dtype_name(t));
  const auto block = static_cast<size_t>(dtype_row_bytes(t, dtype_block_size(t)));
  const size_t blocks = row_stride / block;
  CORRAL_CHECK(blocks * block == row_stride, "{} rows of {} bytes are not whole blocks", dtype_name(t), row_stride);
  auto* bytes = static_cast<uint8_t*>(data);
  std::vector<uint8_t> group(static_cast<size_t>(kInterleaveRows) * row_stride);  // one group, row order
  for (int64_t i0 = 0; i0 < rows; i0 += kInterleaveRows) {
    const auto g = static_cast<size_t>(std::min(kInterleaveRows, rows - i0));
    uint8_t* start = bytes + i0 * row_stride;
    std::memcpy(group.data(), start, g * row_stride);
    if (interleaves_dwords(t) && g == static_cast<size_t>(kInterleaveRows)) {
      const DwordSteps steps(t, block);
      for (size_t b = 0; b < blocks; ++b) {
        for (size_t r = 0; r < g; ++r) steps.scatter(&group[r * row_stride + b * block], r, start + b * g * block);
      }
      continue;
    }
    for (size_t r = 0; r < g; ++r)
      for (size_t b = 0; b < blocks; ++b)
        std::memcpy(start + (b * g + r) * block, &group[r * row_stride + b * block], block);
  }
}

void matmul_quantized(const WeightMatrix& w, const QuantizedActivations& qa, float* y, int64_t ldy, ThreadPool& pool) {
  const GemmFn gemm = (w.interleaved ? active().gemm_interleaved : active().gemm)[static_cast<uint32_t>(w.type)];
  CORRAL_CHECK(gemm != nullptr, "no gemm for weight type {}", dtype_name(w.type));
  CORRAL_CHECK(qa.type == activation_type(w.type), "{} weights need {} activations, got {}", dtype_name(w.type),
               dtype_name(activation_type(w.type)), dtype_name(qa.type));
  CORRAL_CHECK(qa.k == w.cols, "activation width {} != weight width {}", qa.k, w.cols);
  CORRAL_CHECK(w.cols > 0 && w.cols % dtype_block_size(w.type) == 0, "{} cols: not a positive multiple of the {} block",
               w.cols, dtype_name(w.type));
  CORRAL_CHECK(ldy >= w.rows, "ldy {} < {} outputs", ldy, w.rows);
  const int64_t m = w.rows, n = qa.n, k = w.cols;
  if (m == 0 || n == 0) return;

  // Work items are (n-tile, row-chunk) pairs, tile-major: threads working at the same time
  // share one activation tile while the weight chunks stream past.
  const auto tile_rows = static_cast<int64_t>(kActivationTileBytes / qa.row_bytes);
  const int64_t tile = std::clamp<int64_t>(tile_rows, 1, n);
  const int64_t rows_per_item = row_chunk(m, pool.size(), n);
  const int64_t n_chunks = ceil_div(m, rows_per_item);
  const int64_t n_items = ceil_div(n, tile) * n_chunks;
  const auto* w_bytes = static_cast<const uint8_t*>(w.data);
  const auto* x_bytes = static_cast<const uint8_t*>(qa.data);
  pool.parallel_for(n_items, 1, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t j0 = item / n_chunks * tile;
      const int64_t i0 = item % n_chunks * rows_per_item;
      gemm(k, w_bytes + i0 * w.row_stride, w.row_stride, std::min(rows_per_item, m - i0), x_bytes + j0 * qa.row_bytes,
           qa.row_bytes, std::min(tile, n - j0), y + j0 * ldy + i0, ldy);
    }
  });
}

void matmul(const WeightMatrix& w, const float* x, int64_t n, float* y, int64_t ldy, ThreadPool& pool,
            MatmulScratch& scratch) {
  matmul_quantized(w, quantize_activations(activation_type(w.type), x, n, w.cols, pool, scratch), y, ldy, pool);
}

void get_row(const WeightMatrix& w, int64_t row, float* out) {
  CORRAL_CHECK(row >= 0 && row < w.rows, "row {} out of [0, {})", row, w.rows);
  const DequantizeRowFn dequantize = active().dequantize_row[static_cast<uint32_t>(w.type)];
  CORRAL_CHECK(dequantize != nullptr, "no dequantizer for {}", dtype_name(w.type));
  const auto* bytes = static_cast<const uint8_t*>(w.data);
  if (!w.interleaved) return dequantize(bytes + row * w.row_stride, out, w.cols);
  const int64_t i0 = row / kInterleaveRows * kInterleaveRows, r = row - i0;
  const int64_t g = std::min(kInterleaveRows, w.rows - i0);
  const int64_t per_block = dtype_block_size(w.type);
  const auto block = static_cast<size_t>(dtype_row_bytes(w.type, per_block));
  const bool dwords = interleaves_dwords(w.type) && g == kInterleaveRows;
  const DwordSteps steps(w.type, block);
  uint8_t one[kMaxDwordBlockBytes];  // row r's block b, gathered from a dword-interleaved step
  CORRAL_CHECK(!dwords || block <= sizeof one, "{} blocks of {} bytes", dtype_name(w.type), block);
  for (int64_t b = 0; b < w.cols / per_block; ++b) {
    const uint8_t* at = bytes + i0 * w.row_stride + static_cast<size_t>(b * g) * block;
    if (dwords) {
      steps.gather(at, static_cast<size_t>(r), one);
      at = one;
    } else {
      at += static_cast<size_t>(r) * block;
    }
    dequantize(at, out + b * per_block, per_block);
  }
}

}  // namespace corral::kernels
