// SPDX-License-Identifier: MIT
// The avx2 sgemm: gemm_impl.inc and gemm_nt_impl.inc with 32-byte vectors, compiled with avx2 flags (see binding.gyp).
#include <cstdint>

#include "gemm.h"

namespace simdnet {
namespace avx2 {

constexpr int kVecBytes = 32;
#include "kernels/common/vec.inc"
#include "gemm_impl.inc"
#include "gemm_nt_impl.inc"

}  // namespace avx2
}  // namespace simdnet
