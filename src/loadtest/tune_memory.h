// Memory headroom for `corral tune`: what the machine has free, and what a model needs per
// parallel slot, fitted from what the server reports once the model is loaded (/api/ps
// "size": weights + KV cache for every slot's context + step buffers). Two loads with
// different num_parallel give the per-slot cost; the rest is the fixed part.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace corral::cli {

// MemAvailable from /proc/meminfo (bytes); 0 when unknown.
int64_t available_memory_bytes();

struct MemoryModel {
  int64_t fixed_bytes = 0;     // weights and buffers that do not grow with slots
  int64_t per_slot_bytes = 0;  // one slot's KV cache at `num_ctx`
  int64_t num_ctx = 0;         // the context the sizes were measured at

  int64_t bytes_for(int num_parallel, int64_t ctx) const;
  // The largest num_parallel whose estimate stays within `budget` (at least 0).
  int max_parallel(int64_t budget, int64_t ctx) const;
  // The largest power-of-two context (>= 512, <= ceiling) that fits `budget` with
  // `num_parallel` slots; nullopt when not even 512 fits.
  std::optional<int64_t> max_context(int num_parallel, int64_t budget, int64_t ceiling) const;
};

// From two measurements (num_parallel a and b, their /api/ps sizes) at one context. With one
// measurement only, the per-slot cost is unknown and taken as 0.
MemoryModel fit_memory(int a, int64_t size_a, std::optional<std::pair<int, int64_t>> b, int64_t num_ctx);

std::string gib_text(int64_t bytes);

}  // namespace corral::cli
