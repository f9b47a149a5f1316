// SPDX-License-Identifier: MIT
// The avx512 cross-entropy: loss_body.inc compiled with avx512 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "loss.h"

namespace simdnet {
namespace avx512 {

#define SN_KERNEL(name) name
#include "loss_body.inc"
#undef SN_KERNEL

}  // namespace avx512
}  // namespace simdnet
