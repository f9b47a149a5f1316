// SPDX-License-Identifier: MIT
// The neon Adam step: optim_body.inc compiled with neon flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace neon {

#define SN_KERNEL(name) name
#include "optim_body.inc"
#undef SN_KERNEL

}  // namespace neon
}  // namespace simdnet
