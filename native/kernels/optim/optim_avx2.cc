// SPDX-License-Identifier: MIT
// The avx2 Adam step: optim_body.inc compiled with avx2 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace avx2 {

#define SN_KERNEL(name) name
#include "optim_body.inc"
#undef SN_KERNEL

}  // namespace avx2
}  // namespace simdnet
