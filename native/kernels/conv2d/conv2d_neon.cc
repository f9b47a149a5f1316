// SPDX-License-Identifier: MIT
// The neon direct conv2d kernels: conv2d_direct_impl.inc with 16-byte vectors, compiled with neon flags.
#include <cstdint>

#include "conv2d_direct.h"

namespace simdnet {
namespace neon {

constexpr int kVecBytes = 16;
#include "kernels/common/vec.inc"
#include "conv2d_direct_impl.inc"
#include "conv2d_channel_rows_impl.inc"
#include "conv2d_channel_impl.inc"
#include "conv2d_winograd_impl.inc"
#include "conv2d_winograd_dweight_impl.inc"

}  // namespace neon
}  // namespace simdnet
