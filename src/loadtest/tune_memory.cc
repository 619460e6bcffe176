#include "loadtest/tune_memory.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace corral::cli {

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string key;
    int64_t kib = 0;
    // MemAvailable, not MemFree: page cache the kernel can drop counts as available.
    if (s >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

int64_t MemoryModel::bytes_for(int num_parallel, int64_t ctx) const {
  const double scale = num_ctx > 0 ? static_cast<double>(ctx) / static_cast<double>(num_ctx) : 1.0;
  return fixed_bytes + static_cast<int64_t>(static_cast<double>(per_slot_bytes) * scale * num_parallel);
}

int MemoryModel::max_parallel(int64_t budget, int64_t ctx) const {
  if (bytes_for(1, ctx) > budget) return 0;
  if (per_slot_bytes <= 0) return 1 << 10;  // unknown per-slot cost: memory sets no bound
  const double per = static_cast<double>(per_slot_bytes) * static_cast<double>(ctx) /
                     static_cast<double>(std::max<int64_t>(1, num_ctx));
  return static_cast<int>(std::min(1024.0, static_cast<double>(budget - fixed_bytes) / per));
}

std::optional<int64_t> MemoryModel::max_context(int num_parallel, int64_t budget, int64_t ceiling) const {
  std::optional<int64_t> best;
  for (int64_t ctx = 512; ctx <= ceiling; ctx *= 2)
    if (bytes_for(num_parallel, ctx) <= budget) best = ctx;
  return best;
}

MemoryModel fit_memory(int a, int64_t size_a, std::optional<std::pair<int, int64_t>> b, int64_t num_ctx) {
  MemoryModel m;
  m.num_ctx = num_ctx;
  if (b && b->first != a) { m.per_slot_bytes = std::max<int64_t>(0, (b->second - size_a) / (b->first - a)); }
  m.fixed_bytes = std::max<int64_t>(0, size_a - m.per_slot_bytes * a);
  return m;
}

std::string gib_text(int64_t bytes) { return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1ll << 30)); }

}  // namespace corral::cli
