// Internal to the x86 kernels of the legacy family (floats and the 32-element quants): plain
// C++ shared by the avx2 and avx512 folders. No SIMD code lives here, so it may be included
// before a file's `#pragma GCC target` like any other header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace corral::kernels::x86 {

// A per-thread, 64-byte aligned buffer that grows to the largest request and keeps that
// size: gemm kernels repack their operands into it on every call, and the thread pool's
// threads live as long as the process, so steady-state calls allocate nothing. Each `Slot`
// names an independent buffer (two buffers used at once need two slots).
enum class Slot { kActivations, kWeights, kTailRows, kRowOrder, kCount };

class ThreadScratch {
 public:
  // At least `bytes` bytes; the contents are not kept from earlier calls.
  static void* get(Slot slot, size_t bytes) {
    thread_local ThreadScratch buffers[static_cast<int>(Slot::kCount)];
    return buffers[static_cast<int>(slot)].reserve(bytes);
  }

 private:
  static constexpr size_t kAlign = 64;
  struct Free {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{kAlign}); }
  };

  void* reserve(size_t bytes) {
    if (bytes > capacity_) {
      data_.reset(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{kAlign})));
      capacity_ = bytes;
    }
    return data_.get();
  }

  std::unique_ptr<std::byte[], Free> data_;
  size_t capacity_ = 0;
};

// The last, partial panel of a weight matrix as a full one: `valid` rows of `row_bytes` copied
// from w (w_stride apart) to a per-thread buffer, the last row repeated up to `lanes`. Kernels
// then address every panel as base + row * stride, and since lanes never mix, the repeated
// rows only produce outputs that are not stored.
inline const uint8_t* padded_panel(const uint8_t* w, size_t w_stride, int valid, int lanes, size_t row_bytes) {
  auto* out = static_cast<uint8_t*>(ThreadScratch::get(Slot::kTailRows, lanes * row_bytes));
  for (int r = 0; r < lanes; ++r) {
    std::memcpy(out + r * row_bytes, w + (r < valid ? r : valid - 1) * w_stride, row_bytes);
  }
  return out;
}

}  // namespace corral::kernels::x86
