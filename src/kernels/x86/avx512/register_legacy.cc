// Entries of the avx512 level for the legacy family; kernels are added one by one (every entry
// not set here falls back to the level below).
#include "kernels/registry.h"

namespace corral::kernels {

void register_avx512_legacy(KernelTable&) {}

}  // namespace corral::kernels
