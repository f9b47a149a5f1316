// SPDX-License-Identifier: MIT
// The WebAssembly SIMD128 Adam step: optim_impl.inc compiled with -msimd128 (the WebAssembly build,
// scripts/build-wasm.js).
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace simd128 {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "optim_impl.inc"

}  // namespace simd128
}  // namespace simdnet
