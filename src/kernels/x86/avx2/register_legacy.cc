// Entries of the avx2 level for the legacy family; kernels are added one by one (every entry
// not set here falls back to the level below).
#include "kernels/registry.h"

namespace corral::kernels {

void register_avx2_legacy(KernelTable&) {}

}  // namespace corral::kernels
