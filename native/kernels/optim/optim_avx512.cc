// SPDX-License-Identifier: MIT
// The avx512 Adam step: optim_impl.inc compiled with avx512 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace avx512 {

constexpr int kVecBytes = 64;
#include "kernels/common/vec.inc"
#include "optim_impl.inc"

}  // namespace avx512
}  // namespace simdnet
