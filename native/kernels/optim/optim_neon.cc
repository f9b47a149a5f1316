// SPDX-License-Identifier: MIT
// The neon Adam step: optim_impl.inc compiled with neon flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace neon {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "optim_impl.inc"

}  // namespace neon
}  // namespace simdnet
