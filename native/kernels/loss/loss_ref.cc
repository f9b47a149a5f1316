// SPDX-License-Identifier: MIT
// Portable reference softmax cross-entropy (loss_body.inc with baseline compiler flags).
#include <cmath>

#include "loss.h"

namespace simdnet {

#define SN_KERNEL(name) name##_ref
#include "loss_body.inc"
#undef SN_KERNEL

}  // namespace simdnet
