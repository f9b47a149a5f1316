// SPDX-License-Identifier: MIT
// The "baseline" pooling kernel: max pooling with a 2x2 window and stride 2 (LeNet's case),
// branch-free selects over each row that the compiler vectorises. Built once with the compiler's
// default flags (SSE2 on x86-64, NEON on arm64) and used by every SIMD table: rows are short (LeNet:
// 14 and 5 outputs), and 4-wide vectors fit them; built per ISA with AVX-512 flags it measured 3x
// slower (the 16-wide loop never runs and the scalar tail does all the work).
#include <cmath>

#include "pool2d.h"

namespace simdnet {
namespace baseline {

void maxpool2d_2x2_forward(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  const int64_t planes = s.n * s.c, in_plane = s.h * s.w, out_plane = s.oh * s.ow;
  for (int64_t p = 0; p < planes; ++p) {
    const float* ip = inp + p * in_plane;
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      const float* r0 = ip + 2 * oy * s.w;
      const float* r1 = r0 + s.w;
      float* o = out + p * out_plane + oy * s.ow;
      int32_t* a = argmax + p * out_plane + oy * s.ow;
      const int32_t base = static_cast<int32_t>(2 * oy * s.w);
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        // Window order (0,0), (0,1), (1,0), (1,1), as PyTorch scans it.
        const float v0 = r0[2 * ox], v1 = r0[2 * ox + 1], v2 = r1[2 * ox], v3 = r1[2 * ox + 1];
        float m = v0;
        int32_t k = 0;
        bool take = v1 > m || v1 != v1;
        m = take ? v1 : m;
        k = take ? 1 : k;
        take = v2 > m || v2 != v2;
        m = take ? v2 : m;
        k = take ? 2 : k;
        take = v3 > m || v3 != v3;
        m = take ? v3 : m;
        k = take ? 3 : k;
        o[ox] = m;
        a[ox] = base + static_cast<int32_t>(2 * ox) + (k & 1) + (k >> 1) * static_cast<int32_t>(s.w);
      }
    }
  }
}

}  // namespace baseline
}  // namespace simdnet
