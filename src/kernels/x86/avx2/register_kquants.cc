// Entries of the avx2 level for the kquants family; kernels are added one by one (every entry
// not set here falls back to the level below).
#include "kernels/registry.h"

namespace corral::kernels {

void register_avx2_kquants(KernelTable&) {}

}  // namespace corral::kernels
