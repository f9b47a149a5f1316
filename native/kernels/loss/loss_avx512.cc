// SPDX-License-Identifier: MIT
// The avx512 cross-entropy: loss_impl.inc compiled with avx512 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace avx512 {

constexpr int kVecBytes = 64;
#include "kernels/common/vec.inc"
#include "loss_impl.inc"

}  // namespace avx512
}  // namespace simdnet
