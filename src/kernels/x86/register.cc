// Until the SIMD paths land, the x86 levels add nothing over generic.
#include "kernels/registry.h"

namespace corral::kernels {

void register_avx2(KernelTable&) {}
void register_avx512(KernelTable&) {}

}  // namespace corral::kernels
