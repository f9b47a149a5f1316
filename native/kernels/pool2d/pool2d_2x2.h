// SPDX-License-Identifier: MIT
// One output of the 2x2 / stride-2 max pool in scalar code: the tails of the per-ISA kernels (pool2d_<isa>.cc).
#pragma once
#include <cstdint>

namespace simdnet {

// The SIMD kernels reduce each window pairwise, op(op(v0, v1), op(v2, v3)) with op(a, b) = b if b > a or b is NaN,
// else a. op keeps the larger of two elements in the order "NaN above numbers, later NaN above earlier; else the larger
// value, earlier above later on a tie" whenever a comes first in the window order (0,0), (0,1), (1,0), (1,1), as in
// every op here; that order is total, so the pairs pick the element (value bits and index) of the reference's scan.
template <bool kArgmax>
inline void max_2x2_one(float* o, int32_t* a, const float* r0, const float* r1, int64_t ox, int32_t base, int32_t w) {
  const float v0 = r0[2 * ox], v1 = r0[2 * ox + 1], v2 = r1[2 * ox], v3 = r1[2 * ox + 1];
  const bool t01 = v1 > v0 || v1 != v1, t23 = v3 > v2 || v3 != v3;
  const float h0 = t01 ? v1 : v0, h1 = t23 ? v3 : v2;
  const bool t = h1 > h0 || h1 != h1;
  o[ox] = t ? h1 : h0;
  if (kArgmax) a[ox] = base + static_cast<int32_t>(2 * ox) + (t ? w + t23 : static_cast<int32_t>(t01));
}

}  // namespace simdnet
