// SPDX-License-Identifier: MIT
// The avx2 Adam step: optim_impl.inc compiled with avx2 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace avx2 {

constexpr int kVecBytes = 32;
#include "kernels/common/vec.inc"
#include "optim_impl.inc"

}  // namespace avx2
}  // namespace simdnet
