// SPDX-License-Identifier: MIT
// The avx2 cross-entropy: loss_impl.inc compiled with avx2 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace avx2 {

constexpr int kVecBytes = 32;
#include "kernels/common/vec.inc"
#include "loss_impl.inc"

}  // namespace avx2
}  // namespace simdnet
