// SPDX-License-Identifier: MIT
// The neon cross-entropy: loss_impl.inc compiled with neon flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace neon {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "loss_impl.inc"

}  // namespace neon
}  // namespace simdnet
