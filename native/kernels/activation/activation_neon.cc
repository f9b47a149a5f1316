// SPDX-License-Identifier: MIT
// The neon ReLU kernels: activation_impl.inc with 16-byte vectors, compiled with neon flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "activation.h"

namespace simdnet {
namespace neon {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "activation_impl.inc"

}  // namespace neon
}  // namespace simdnet
