// SPDX-License-Identifier: MIT
// The neon ReLU kernels: activation_simd.inc compiled with neon flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "activation.h"

namespace simdnet {
namespace neon {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "activation_simd.inc"

}  // namespace neon
}  // namespace simdnet
