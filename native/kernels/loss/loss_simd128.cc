// SPDX-License-Identifier: MIT
// The WebAssembly SIMD128 cross-entropy: loss_impl.inc compiled with -msimd128 (the WebAssembly build,
// scripts/build-wasm.js).
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace simd128 {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "loss_impl.inc"

}  // namespace simd128
}  // namespace simdnet
