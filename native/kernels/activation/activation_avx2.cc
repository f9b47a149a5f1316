// SPDX-License-Identifier: MIT
// The avx2 ReLU kernels: activation_simd.inc compiled with avx2 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "activation.h"

namespace simdnet {
namespace avx2 {

constexpr int kVecBytes = 32;
#include "kernels/common/vec.inc"
#include "activation_simd.inc"

}  // namespace avx2
}  // namespace simdnet
