// SPDX-License-Identifier: MIT
// The avx2 ReLU kernels: activation_impl.inc with 32-byte vectors, compiled with avx2 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "activation.h"

namespace simdnet {
namespace avx2 {

constexpr int kVecBytes = 32;
#include "kernels/common/vec.inc"
#include "activation_impl.inc"

}  // namespace avx2
}  // namespace simdnet
