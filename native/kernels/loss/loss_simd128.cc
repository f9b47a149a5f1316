// SPDX-License-Identifier: MIT
// The WebAssembly SIMD128 cross-entropy: loss_body.inc compiled with -msimd128 (the WebAssembly build,
// scripts/build-wasm.js).
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace simd128 {

#define SN_KERNEL(name) name
#include "loss_body.inc"
#undef SN_KERNEL

}  // namespace simd128
}  // namespace simdnet
