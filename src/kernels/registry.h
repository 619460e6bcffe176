// Internal: each instruction-set folder fills the entries it implements. dispatch.cc calls
// them in order (generic, then avx2, then avx512) so a level inherits every entry it does
// not override from the levels below.
#pragma once

#include "kernels/api.h"

namespace corral::kernels {

void register_generic(KernelTable& t);
// Defined in x86/avx2 and x86/avx512 once those paths exist; each checks nothing about the
// CPU (dispatch.cc only calls it when the CPU supports the level).
void register_avx2(KernelTable& t);
void register_avx512(KernelTable& t);

}  // namespace corral::kernels
