// What the CPU can run, probed once from CPUID (and the OS's XSAVE state), and the SIMD level
// the kernels use: the best supported, unless CORRAL_CPU=generic|avx2|avx512 forces a lower one.
#pragma once

#include <string>

namespace corral {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avxvnni = false;
  int physical_cores = 1;
  int logical_cpus = 1;
};

enum class IsaLevel { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };

const CpuFeatures& cpu_features();
// Highest level this CPU supports (independent of CORRAL_CPU).
IsaLevel max_supported_isa();
// The level kernels dispatch to: min(max_supported_isa(), CORRAL_CPU if set).
IsaLevel selected_isa();
const char* isa_name(IsaLevel level);
// Parses "generic" | "avx2" | "avx512"; false if unknown.
bool parse_isa(const std::string& s, IsaLevel* out);

}  // namespace corral
