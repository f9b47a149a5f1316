// SPDX-License-Identifier: MIT
// The avx2 2x2 / stride-2 max pool (AVX2 intrinsics, built with the avx2 flags of binding.gyp): 8 outputs of a row at
// a time; a row's last chunk overlaps the one before it instead of running a scalar tail (LeNet's rows of 14 outputs:
// chunks at 0 and 6); rows of 4..7 outputs (LeNet's 5) take one chunk of 8 that spills into the next row, the last
// rows of a call two chunks of 4 (SSE); only rows under 4 outputs run scalar code.
#include <immintrin.h>

#include <cstdint>

#include "pool2d.h"
#include "pool2d_2x2.h"

namespace simdnet {
namespace avx2 {
namespace {

// op(a, b) of pool2d_2x2.h: max(b, a) is b > a ? b : a (a when either is NaN); then b where b is NaN.
inline __m256 pick(__m256 a, __m256 b) {
  return _mm256_blendv_ps(_mm256_max_ps(b, a), b, _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
}
inline __m128 pick(__m128 a, __m128 b) { return _mm_blendv_ps(_mm_max_ps(b, a), b, _mm_cmpunord_ps(b, b)); }

// All ones in the lanes where op(a, b) takes b (the argmax variant).
inline __m256 takes(__m256 a, __m256 b) {
  return _mm256_or_ps(_mm256_cmp_ps(b, a, _CMP_GT_OQ), _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
}
inline __m128 takes(__m128 a, __m128 b) { return _mm_or_ps(_mm_cmpgt_ps(b, a), _mm_cmpunord_ps(b, b)); }

// The window offset of each lane's maximum: t ? w + (t23 ? 1 : 0) : (t01 ? 1 : 0).
inline __m256i window_offset(__m256 t01, __m256 t23, __m256 t, int32_t w) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i top = _mm256_and_si256(_mm256_castps_si256(t01), one);
  const __m256i bottom = _mm256_add_epi32(_mm256_and_si256(_mm256_castps_si256(t23), one), _mm256_set1_epi32(w));
  return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(top), _mm256_castsi256_ps(bottom), t));
}
inline __m128i window_offset(__m128 t01, __m128 t23, __m128 t, int32_t w) {
  const __m128i one = _mm_set1_epi32(1);
  const __m128i top = _mm_and_si128(_mm_castps_si128(t01), one);
  const __m128i bottom = _mm_add_epi32(_mm_and_si128(_mm_castps_si128(t23), one), _mm_set1_epi32(w));
  return _mm_castps_si128(_mm_blendv_ps(_mm_castsi128_ps(top), _mm_castsi128_ps(bottom), t));
}

// Outputs [ox, ox + 8) of one row. The in-lane shuffles leave outputs in the order 0 1 4 5 2 3 6 7; one 64-bit
// permute of the result (and of the indices) restores it.
template <bool kArgmax>
inline void chunk8(float* o, int32_t* a, const float* r0, const float* r1, int64_t ox, int32_t base, int32_t w) {
  const __m256 a0 = _mm256_loadu_ps(r0 + 2 * ox), a1 = _mm256_loadu_ps(r0 + 2 * ox + 8);
  const __m256 b0 = _mm256_loadu_ps(r1 + 2 * ox), b1 = _mm256_loadu_ps(r1 + 2 * ox + 8);
  const __m256 v0 = _mm256_shuffle_ps(a0, a1, 0x88), v1 = _mm256_shuffle_ps(a0, a1, 0xDD);
  const __m256 v2 = _mm256_shuffle_ps(b0, b1, 0x88), v3 = _mm256_shuffle_ps(b0, b1, 0xDD);
  if (!kArgmax) {
    const __m256 m = pick(pick(v0, v1), pick(v2, v3));
    _mm256_storeu_ps(o + ox, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), 0xD8)));
    return;
  }
  const __m256 t01 = takes(v0, v1), t23 = takes(v2, v3);
  const __m256 h0 = _mm256_blendv_ps(v0, v1, t01), h1 = _mm256_blendv_ps(v2, v3, t23);
  const __m256 t = takes(h0, h1);
  const __m256 m = _mm256_blendv_ps(h0, h1, t);
  _mm256_storeu_ps(o + ox, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), 0xD8)));
  const __m256i columns = _mm256_setr_epi32(0, 2, 8, 10, 4, 6, 12, 14);  // 2 x the shuffled order
  const __m256i at = _mm256_add_epi32(_mm256_set1_epi32(base + static_cast<int32_t>(2 * ox)), columns);
  const __m256i index = _mm256_add_epi32(at, window_offset(t01, t23, t, w));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + ox), _mm256_permute4x64_epi64(index, 0xD8));
}

// Outputs [ox, ox + 4) of one row (SSE, in order).
template <bool kArgmax>
inline void chunk4(float* o, int32_t* a, const float* r0, const float* r1, int64_t ox, int32_t base, int32_t w) {
  const __m128 a0 = _mm_loadu_ps(r0 + 2 * ox), a1 = _mm_loadu_ps(r0 + 2 * ox + 4);
  const __m128 b0 = _mm_loadu_ps(r1 + 2 * ox), b1 = _mm_loadu_ps(r1 + 2 * ox + 4);
  const __m128 v0 = _mm_shuffle_ps(a0, a1, 0x88), v1 = _mm_shuffle_ps(a0, a1, 0xDD);
  const __m128 v2 = _mm_shuffle_ps(b0, b1, 0x88), v3 = _mm_shuffle_ps(b0, b1, 0xDD);
  if (!kArgmax) {
    _mm_storeu_ps(o + ox, pick(pick(v0, v1), pick(v2, v3)));
    return;
  }
  const __m128 t01 = takes(v0, v1), t23 = takes(v2, v3);
  const __m128 h0 = _mm_blendv_ps(v0, v1, t01), h1 = _mm_blendv_ps(v2, v3, t23);
  const __m128 t = takes(h0, h1);
  _mm_storeu_ps(o + ox, _mm_blendv_ps(h0, h1, t));
  const __m128i at = _mm_add_epi32(_mm_set1_epi32(base + static_cast<int32_t>(2 * ox)), _mm_setr_epi32(0, 2, 4, 6));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(a + ox), _mm_add_epi32(at, window_offset(t01, t23, t, w)));
}

template <bool kArgmax>
void by_rows(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  const int64_t planes = s.n * s.c, in_plane = s.h * s.w, out_plane = s.oh * s.ow, ow = s.ow;
  const int32_t w = static_cast<int32_t>(s.w);
  const int64_t in_size = planes * in_plane, out_size = planes * out_plane;
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      const float* r0 = inp + p * in_plane + 2 * oy * s.w;
      const float* r1 = r0 + s.w;
      float* o = out + p * out_plane + oy * ow;
      int32_t* a = kArgmax ? argmax + p * out_plane + oy * ow : nullptr;
      const int32_t base = static_cast<int32_t>(2 * oy * s.w);
      if (ow >= 8) {
        int64_t ox = 0;
        for (; ox + 8 <= ow; ox += 8) chunk8<kArgmax>(o, a, r0, r1, ox, base, w);
        if (ox < ow) chunk8<kArgmax>(o, a, r0, r1, ow - 8, base, w);  // overlaps: the same values again
      } else if (ow >= 4 && (r1 - inp) + 16 <= in_size && (o - out) + 8 <= out_size) {
        // One chunk of 8 for a row of 4..7 (LeNet's 5): its last lanes read the rows below and write the next row's
        // first outputs, which that row (this call's, rows go in order) overwrites. Half the time of two chunks of 4.
        chunk8<kArgmax>(o, a, r0, r1, 0, base, w);
      } else if (ow >= 4) {
        chunk4<kArgmax>(o, a, r0, r1, 0, base, w);
        if (ow > 4) chunk4<kArgmax>(o, a, r0, r1, ow - 4, base, w);
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

}  // namespace avx2
}  // namespace simdnet
