// SPDX-License-Identifier: MIT
// The WebAssembly SIMD128 sgemm: gemm_impl.inc and gemm_nt_impl.inc with 16-byte vectors, compiled with -msimd128 (the
// WebAssembly build, scripts/build-wasm.js).
#include <cstdint>

#include "gemm.h"

namespace simdnet {
namespace simd128 {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "gemm_impl.inc"
#include "gemm_nt_impl.inc"

}  // namespace simd128
}  // namespace simdnet
