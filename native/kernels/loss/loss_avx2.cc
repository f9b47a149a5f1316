// SPDX-License-Identifier: MIT
// The avx2 cross-entropy: loss_body.inc compiled with avx2 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace avx2 {

#define SN_KERNEL(name) name
#include "loss_body.inc"
#undef SN_KERNEL

}  // namespace avx2
}  // namespace simdnet
