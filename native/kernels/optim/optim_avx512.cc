// SPDX-License-Identifier: MIT
// The avx512 Adam step: optim_body.inc compiled with avx512 flags (see binding.gyp).
#include <cmath>
#include <cstdint>

#include "optim.h"

namespace simdnet {
namespace avx512 {

#define SN_KERNEL(name) name
#include "optim_body.inc"
#undef SN_KERNEL

}  // namespace avx512
}  // namespace simdnet
