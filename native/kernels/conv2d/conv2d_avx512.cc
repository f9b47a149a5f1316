// SPDX-License-Identifier: MIT
// The avx512 direct conv2d kernels: conv2d_direct_impl.inc with 64-byte vectors, compiled with avx512 flags.
#include <immintrin.h>

#include <cstdint>

#include "conv2d_direct.h"

namespace simdnet {
namespace avx512 {

constexpr int kVecBytes = 64;
#include "kernels/common/vec.inc"
#include "conv2d_direct_blocks_avx512.inc"
#include "conv2d_direct_impl.inc"
#include "conv2d_channel_rows_impl.inc"
#include "conv2d_channel_impl.inc"
#include "conv2d_winograd_impl.inc"
#include "conv2d_winograd_dweight_impl.inc"

}  // namespace avx512
}  // namespace simdnet
