// SPDX-License-Identifier: MIT
// The avx512 ReLU kernels: activation_simd.inc compiled with avx512 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "activation.h"

namespace simdnet {
namespace avx512 {

constexpr int kVecBytes = 64;
#include "kernels/common/vec.inc"
#include "activation_simd.inc"

}  // namespace avx512
}  // namespace simdnet
