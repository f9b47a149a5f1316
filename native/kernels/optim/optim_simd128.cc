// SPDX-License-Identifier: MIT
// The WebAssembly SIMD128 Adam step: optim_body.inc compiled with -msimd128 (the WebAssembly build,
// scripts/build-wasm.js).
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace simd128 {

#define SN_KERNEL(name) name
#include "optim_body.inc"
#undef SN_KERNEL

}  // namespace simd128
}  // namespace simdnet
