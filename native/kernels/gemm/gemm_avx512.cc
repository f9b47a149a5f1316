// SPDX-License-Identifier: MIT
// The avx512 sgemm: gemm_impl.inc and gemm_nt_impl.inc with 64-byte vectors, compiled with avx512 flags (see
// binding.gyp).
#include <cstdint>

#include "gemm.h"

namespace simdnet {
namespace avx512 {

constexpr int kVecBytes = 64;
#include "kernels/common/vec.inc"
#include "gemm_impl.inc"
#include "gemm_nt_impl.inc"

}  // namespace avx512
}  // namespace simdnet
