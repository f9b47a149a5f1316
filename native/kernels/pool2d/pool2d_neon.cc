// SPDX-License-Identifier: MIT
// The neon 2x2 / stride-2 max pool (NEON intrinsics): vld2q deinterleaves a row's pairs as it loads them, 4 outputs at
// a time; a row's last chunk overlaps the one before it instead of running a scalar tail (LeNet's rows of 14 and 5
// outputs: chunks at 0, 4, 8, 10 and at 0, 1), so only rows under 4 outputs run scalar code.
#include <arm_neon.h>

#include <cstdint>

#include "pool2d.h"
#include "pool2d_2x2.h"

namespace simdnet {
namespace neon {
namespace {

// All ones in the lanes where op(a, b) of pool2d_2x2.h takes b: b > a, or b is NaN (b != b).
inline uint32x4_t takes(float32x4_t a, float32x4_t b) { return vornq_u32(vcgtq_f32(b, a), vceqq_f32(b, b)); }
inline float32x4_t pick(float32x4_t a, float32x4_t b) { return vbslq_f32(takes(a, b), b, a); }

// Outputs [ox, ox + 4) of one row.
template <bool kArgmax>
inline void chunk4(float* o, int32_t* a, const float* r0, const float* r1, int64_t ox, int32_t base, int32_t w) {
  const float32x4x2_t top = vld2q_f32(r0 + 2 * ox), bottom = vld2q_f32(r1 + 2 * ox);
  const float32x4_t v0 = top.val[0], v1 = top.val[1], v2 = bottom.val[0], v3 = bottom.val[1];
  if (!kArgmax) {
    vst1q_f32(o + ox, pick(pick(v0, v1), pick(v2, v3)));
    return;
  }
  const uint32x4_t t01 = takes(v0, v1), t23 = takes(v2, v3);
  const float32x4_t h0 = vbslq_f32(t01, v1, v0), h1 = vbslq_f32(t23, v3, v2);
  const uint32x4_t t = takes(h0, h1);
  vst1q_f32(o + ox, vbslq_f32(t, h1, h0));
  const uint32x4_t one = vdupq_n_u32(1);
  const uint32x4_t offset =
      vbslq_u32(t, vaddq_u32(vandq_u32(t23, one), vdupq_n_u32(static_cast<uint32_t>(w))), vandq_u32(t01, one));
  const int32_t columns[4] = {0, 2, 4, 6};
  const int32x4_t at = vaddq_s32(vdupq_n_s32(base + static_cast<int32_t>(2 * ox)), vld1q_s32(columns));
  vst1q_s32(a + ox, vaddq_s32(at, vreinterpretq_s32_u32(offset)));
}

template <bool kArgmax>
void by_rows(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  const int64_t planes = s.n * s.c, in_plane = s.h * s.w, out_plane = s.oh * s.ow, ow = s.ow;
  const int32_t w = static_cast<int32_t>(s.w);
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      const float* r0 = inp + p * in_plane + 2 * oy * s.w;
      const float* r1 = r0 + s.w;
      float* o = out + p * out_plane + oy * ow;
      int32_t* a = kArgmax ? argmax + p * out_plane + oy * ow : nullptr;
      const int32_t base = static_cast<int32_t>(2 * oy * s.w);
      if (ow >= 4) {
        int64_t ox = 0;
        for (; ox + 4 <= ow; ox += 4) chunk4<kArgmax>(o, a, r0, r1, ox, base, w);
        if (ox < ow) chunk4<kArgmax>(o, a, r0, r1, ow - 4, base, w);  // overlaps: the same values again
      } else {
        for (int64_t ox = 0; ox < ow; ++ox) max_2x2_one<kArgmax>(o, a, r0, r1, ox, base, w);
      }
    }
  }
}

}  // namespace

void maxpool2d_2x2_forward(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  if (argmax != nullptr)
    by_rows<true>(out, argmax, inp, s);
  else
    by_rows<false>(out, nullptr, inp, s);
}

}  // namespace neon
}  // namespace simdnet
