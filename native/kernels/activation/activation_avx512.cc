// SPDX-License-Identifier: MIT
// The avx512 ReLU kernels: activation_impl.inc with 64-byte vectors, compiled with avx512 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "activation.h"

namespace simdnet {
namespace avx512 {

constexpr int kVecBytes = 64;
#include "kernels/common/vec.inc"
#include "activation_impl.inc"

}  // namespace avx512
}  // namespace simdnet
