#include "base/cpu_features.h"

#include <cpuid.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

namespace corral {
namespace {

uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// Counts distinct (physical id, core id) pairs; falls back to logical CPUs.
int count_physical_cores(int logical) {
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<int, int>> cores;
  std::string line;
  int phys = 0;
  while (std::getline(in, line)) {
    if (line.rfind("physical id", 0) == 0) phys = std::atoi(line.c_str() + line.find(':') + 1);
    if (line.rfind("core id", 0) == 0) cores.insert({phys, std::atoi(line.c_str() + line.find(':') + 1)});
  }
  // A VM that reports one core id per vCPU with "siblings == cores" gives the right count;
  // if cpuinfo is unhelpful, use the logical count.
  return cores.empty() ? logical : static_cast<int>(cores.size());
}

CpuFeatures probe() {
  CpuFeatures f;
  unsigned a, b, c, d;
  bool osxsave = false;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    f.fma = c & (1u << 12);
    osxsave = c & (1u << 27);
    f.f16c = c & (1u << 29);
  }
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;                 // XMM + YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask + ZMM state
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = os_avx && (b & (1u << 5));
    f.avx512f = os_avx512 && (b & (1u << 16));
    f.avx512dq = os_avx512 && (b & (1u << 17));
    f.avx512bw = os_avx512 && (b & (1u << 30));
    f.avx512vl = os_avx512 && (b & (1u << 31));
    f.avx512vnni = os_avx512 && (c & (1u << 11));
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avxvnni = os_avx && (a & (1u << 4));
    f.avx512bf16 = os_avx512 && (a & (1u << 5));
  }
  f.fma = f.fma && os_avx;
  f.f16c = f.f16c && os_avx;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  f.logical_cpus = n > 0 ? static_cast<int>(n) : 1;
  f.physical_cores = count_physical_cores(f.logical_cpus);
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = probe();
  return f;
}

IsaLevel max_supported_isa() {
  const CpuFeatures& f = cpu_features();
  // Our AVX-512 kernels use F/BW/VL/DQ plus VNNI for the integer dot products.
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni && f.fma && f.f16c) return IsaLevel::kAvx512;
  if (f.avx2 && f.fma && f.f16c) return IsaLevel::kAvx2;
  return IsaLevel::kGeneric;
}

bool parse_isa(const std::string& s, IsaLevel* out) {
  if (s == "generic") *out = IsaLevel::kGeneric;
  else if (s == "avx2") *out = IsaLevel::kAvx2;
  else if (s == "avx512") *out = IsaLevel::kAvx512;
  else return false;
  return true;
}

IsaLevel selected_isa() {
  static const IsaLevel level = [] {
    IsaLevel best = max_supported_isa();
    const char* env = std::getenv("CORRAL_CPU");
    if (!env || !*env) return best;
    IsaLevel want;
    if (!parse_isa(env, &want)) {
      spdlog::warn("CORRAL_CPU={} is not one of generic|avx2|avx512; using {}", env, isa_name(best));
      return best;
    }
    if (static_cast<int>(want) > static_cast<int>(best)) {
      spdlog::warn("CORRAL_CPU={} is not supported by this CPU; using {}", env, isa_name(best));
      return best;
    }
    return want;
  }();
  return level;
}

const char* isa_name(IsaLevel level) {
  switch (level) {
    case IsaLevel::kGeneric: return "generic";
    case IsaLevel::kAvx2: return "avx2";
    case IsaLevel::kAvx512: return "avx512";
  }
  return "?";
}

}  // namespace corral
