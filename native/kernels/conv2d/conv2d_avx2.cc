// SPDX-License-Identifier: MIT
// The avx2 direct conv2d kernels: conv2d_direct_impl.inc with 32-byte vectors, compiled with avx2 flags.
#include <cstdint>

#include "conv2d_direct.h"

namespace simdnet {
namespace avx2 {

constexpr int kVecBytes = 32;
#include "kernels/common/vec.inc"
#include "conv2d_direct_impl.inc"
#include "conv2d_channel_rows_impl.inc"
#include "conv2d_channel_impl.inc"
#include "conv2d_winograd_impl.inc"
#include "conv2d_winograd_dweight_impl.inc"

}  // namespace avx2
}  // namespace simdnet
