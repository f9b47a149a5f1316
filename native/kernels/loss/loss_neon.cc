// SPDX-License-Identifier: MIT
// The neon cross-entropy: loss_body.inc compiled with neon flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace neon {

#define SN_KERNEL(name) name
#include "loss_body.inc"
#undef SN_KERNEL

}  // namespace neon
}  // namespace simdnet
