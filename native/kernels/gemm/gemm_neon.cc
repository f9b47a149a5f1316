// SPDX-License-Identifier: MIT
// The neon sgemm: gemm_impl.inc and gemm_nt_impl.inc with 16-byte vectors, compiled with neon flags (see binding.gyp).
#include <cstdint>

#include "gemm.h"

namespace simdnet {
namespace neon {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "gemm_impl.inc"
#include "gemm_nt_impl.inc"

}  // namespace neon
}  // namespace simdnet
