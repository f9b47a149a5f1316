// SPDX-License-Identifier: MIT
// Portable reference Adam step (optim_body.inc with baseline compiler flags).
#include <cmath>

#include "optim.h"

namespace simdnet {

#define SN_KERNEL(name) name##_ref
#include "optim_body.inc"
#undef SN_KERNEL

}  // namespace simdnet
