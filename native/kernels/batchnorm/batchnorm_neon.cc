// SPDX-License-Identifier: MIT
// The neon batch norm kernels: batchnorm_impl.inc compiled with neon flags (see binding.gyp).
#include <cmath>
#include <cstring>

#include "batchnorm.h"

namespace simdnet {
namespace neon {

#define SN_BN_NAME(name) name
#include "batchnorm_impl.inc"
#undef SN_BN_NAME

}  // namespace neon
}  // namespace simdnet
