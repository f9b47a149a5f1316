// SPDX-License-Identifier: MIT
// The avx512 2x2 / stride-2 max pool (AVX-512F intrinsics, built with the avx512 flags of binding.gyp). LeNet's rows
// are short (14 and 5 outputs), so no loop waits for 16 full lanes: masked loads and stores do every row in one pass,
// and rows of up to 8 outputs with an even width go flat, several row pairs per vector (15 outputs for 5-wide rows).
#include <immintrin.h>

#include <cstdint>

#include "pool2d.h"
#include "pool2d_2x2.h"

namespace simdnet {
namespace avx512 {
namespace {

// op(a, b) of pool2d_2x2.h: where b is a number max(b, a) (b > a ? b : a, so a when a is NaN), where b is NaN b.
inline __m512 pick(__m512 a, __m512 b) { return _mm512_mask_max_ps(b, _mm512_cmp_ps_mask(b, b, _CMP_ORD_Q), b, a); }

// The lanes where op(a, b) takes b (the argmax variant needs them).
inline __mmask16 takes(__m512 a, __m512 b) {
  return _mm512_kor(_mm512_cmp_ps_mask(b, a, _CMP_GT_OQ), _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q));
}

// The first n lanes (none for n <= 0, all for n >= 16).
inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}

// The masks of a chunk of n <= 16 outputs: its 2 n inputs per row (lanes of two vectors) and its n outputs.
struct ChunkMasks {
  __mmask16 lo, hi, out;
};
inline ChunkMasks chunk_masks(int64_t n) { return {first_lanes(2 * n), first_lanes(2 * n - 16), first_lanes(n)}; }

// Masked loads of 2 * 16 floats from p (the lanes of lo, then hi) as evens and odds.
inline void load_pairs(const float* p, __mmask16 lo, __mmask16 hi, __m512& even, __m512& odd) {
  const __m512i even_lanes = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd_lanes = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 a = _mm512_maskz_loadu_ps(lo, p), b = _mm512_maskz_loadu_ps(hi, p + 16);
  even = _mm512_permutex2var_ps(a, even_lanes, b);
  odd = _mm512_permutex2var_ps(a, odd_lanes, b);
}

// The window offset of each lane's maximum inside its plane: 0, 1, w or w + 1 from the takes of op(v0, v1) (t01),
// op(v2, v3) (t23) and of the pair maxima (t).
inline __m512i window_offset(__mmask16 t01, __mmask16 t23, __mmask16 t, int32_t w) {
  const __m512i top = _mm512_maskz_mov_epi32(t01, _mm512_set1_epi32(1));
  const __m512i bottom = _mm512_mask_blend_epi32(t23, _mm512_set1_epi32(w), _mm512_set1_epi32(w + 1));
  return _mm512_mask_blend_epi32(t, top, bottom);
}

// Outputs [ox, ox + n) of one output row (n <= 16, masks m) from input rows r0 and r1; base = the plane index of r0[0].
template <bool kArgmax>
inline void row_chunk(float* o, int32_t* a, const float* r0, const float* r1, int64_t ox, ChunkMasks m, int32_t base,
                      int32_t w) {
  __m512 v0, v1, v2, v3;
  load_pairs(r0 + 2 * ox, m.lo, m.hi, v0, v1);
  load_pairs(r1 + 2 * ox, m.lo, m.hi, v2, v3);
  const __mmask16 store = m.out;
  if (!kArgmax) {
    _mm512_mask_storeu_ps(o + ox, store, pick(pick(v0, v1), pick(v2, v3)));
    return;
  }
  const __mmask16 t01 = takes(v0, v1), t23 = takes(v2, v3);
  const __m512 h0 = _mm512_mask_blend_ps(t01, v0, v1), h1 = _mm512_mask_blend_ps(t23, v2, v3);
  const __mmask16 t = takes(h0, h1);
  _mm512_mask_storeu_ps(o + ox, store, _mm512_mask_blend_ps(t, h0, h1));
  const __m512i columns = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i at = _mm512_add_epi32(_mm512_set1_epi32(base + static_cast<int32_t>(2 * ox)), columns);
  _mm512_mask_storeu_epi32(a + ox, store, _mm512_add_epi32(at, window_offset(t01, t23, t, w)));
}

// Every output row, 16 outputs at a time, the last chunk of each row masked (its masks made once per call: made per
// chunk they cost LeNet's 14-wide rows a sixth of their time).
template <bool kArgmax>
void by_rows(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  const int64_t planes = s.n * s.c, in_plane = s.h * s.w, out_plane = s.oh * s.ow, full = s.ow / 16 * 16;
  const int32_t w = static_cast<int32_t>(s.w);
  const ChunkMasks all = chunk_masks(16), tail = chunk_masks(s.ow - full);
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      const float* r0 = inp + p * in_plane + 2 * oy * s.w;
      float* o = out + p * out_plane + oy * s.ow;
      int32_t* a = kArgmax ? argmax + p * out_plane + oy * s.ow : nullptr;
      const int32_t base = static_cast<int32_t>(2 * oy * s.w);
      for (int64_t ox = 0; ox < full; ox += 16) row_chunk<kArgmax>(o, a, r0, r0 + s.w, ox, all, base, w);
      if (full < s.ow) row_chunk<kArgmax>(o, a, r0, r0 + s.w, full, tail, base, w);
    }
  }
}

// Short rows of an even width (w = 2 ow, ow <= 8): a pair of input rows is 4 ow contiguous floats that give ow
// contiguous outputs, and `per` = 16 / ow such pairs (blocks) share a vector: their pair maxima (2 ow per block) fill
// two vectors h0, h1, and each output lane picks its top and bottom pair maxima from them with one permute each.
struct FlatPlan {
  int64_t ow, per;
  __m512i top, bottom;  // per output lane: its top and bottom pair maxima among h0, h1 (lanes 0-15, 16-31)
  __m512i column;       // per output lane: the plane index of its window's (0,0) in the first block (argmax)
};

FlatPlan flat_plan(const Pool2dShape& s) {
  FlatPlan f{s.ow, 16 / s.ow, {}, {}, {}};
  alignas(64) int32_t top[16] = {}, bottom[16] = {}, column[16] = {};
  for (int64_t l = 0; l < f.per * f.ow; ++l) {
    const int64_t block = l / f.ow, x = l % f.ow;
    top[l] = static_cast<int32_t>(block * 2 * f.ow + x);
    bottom[l] = static_cast<int32_t>(block * 2 * f.ow + f.ow + x);
    column[l] = static_cast<int32_t>(block * 2 * s.w + 2 * x);
  }
  f.top = _mm512_load_si512(top);
  f.bottom = _mm512_load_si512(bottom);
  f.column = _mm512_load_si512(column);
  return f;
}

// `blocks` contiguous row pairs from inp into out; with argmax, the blocks are rows 0 .. blocks - 1 of one plane.
template <bool kArgmax>
void flat_blocks(float* out, int32_t* argmax, const float* inp, int64_t blocks, const FlatPlan& f, int32_t w) {
  // A step's n outputs read 4 n floats: the lanes of chunk_masks(2 n) in the first two vectors, then of
  // chunk_masks(2 n - 16); the masks of full steps made once.
  const int64_t full_n = f.per * f.ow;
  const ChunkMasks full_lo = chunk_masks(2 * full_n), full_hi = chunk_masks(2 * full_n - 16);
  for (int64_t b = 0; b < blocks; b += f.per) {
    const bool last = blocks - b < f.per;
    const int64_t n = last ? (blocks - b) * f.ow : full_n;
    const ChunkMasks lo = last ? chunk_masks(2 * n) : full_lo, hi = last ? chunk_masks(2 * n - 16) : full_hi;
    const float* src = inp + b * 4 * f.ow;
    __m512 e0, o0, e1, o1;
    load_pairs(src, lo.lo, lo.hi, e0, o0);
    load_pairs(src + 32, hi.lo, hi.hi, e1, o1);
    const __mmask16 store = first_lanes(n);
    if (!kArgmax) {
      const __m512 h0 = pick(e0, o0), h1 = pick(e1, o1);
      const __m512 top = _mm512_permutex2var_ps(h0, f.top, h1), bottom = _mm512_permutex2var_ps(h0, f.bottom, h1);
      _mm512_mask_storeu_ps(out + b * f.ow, store, pick(top, bottom));
      continue;
    }
    const __mmask16 th0 = takes(e0, o0), th1 = takes(e1, o1);
    const __m512 h0 = _mm512_mask_blend_ps(th0, e0, o0), h1 = _mm512_mask_blend_ps(th1, e1, o1);
    const __m512 top = _mm512_permutex2var_ps(h0, f.top, h1), bottom = _mm512_permutex2var_ps(h0, f.bottom, h1);
    const __mmask16 t = takes(top, bottom);
    _mm512_mask_storeu_ps(out + b * f.ow, store, _mm512_mask_blend_ps(t, top, bottom));
    // The pair maxima's takes follow their values through the same permutes.
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i tk0 = _mm512_maskz_mov_epi32(th0, one), tk1 = _mm512_maskz_mov_epi32(th1, one);
    const __m512i t01 = _mm512_permutex2var_epi32(tk0, f.top, tk1);
    const __m512i t23 = _mm512_permutex2var_epi32(tk0, f.bottom, tk1);
    const __m512i offset = _mm512_mask_blend_epi32(t, t01, _mm512_add_epi32(t23, _mm512_set1_epi32(w)));
    const __m512i at = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(b * 2 * w)), f.column);
    _mm512_mask_storeu_epi32(argmax + b * f.ow, store, _mm512_add_epi32(at, offset));
  }
}

}  // namespace

void maxpool2d_2x2_forward(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  if (s.oh <= 0 || s.ow <= 0) return;
  const int64_t planes = s.n * s.c;
  const int32_t w = static_cast<int32_t>(s.w);
  if (s.w != 2 * s.ow || s.ow > 8) {
    if (argmax != nullptr)
      by_rows<true>(out, argmax, inp, s);
    else
      by_rows<false>(out, nullptr, inp, s);
    return;
  }
  const FlatPlan f = flat_plan(s);
  if (argmax == nullptr && s.h == 2 * s.oh) {
    flat_blocks<false>(out, nullptr, inp, planes * s.oh, f, w);  // every plane's row pairs are contiguous
    return;
  }
  for (int64_t p = 0; p < planes; ++p) {
    float* o = out + p * s.oh * s.ow;
    const float* i = inp + p * s.h * s.w;
    if (argmax != nullptr)
      flat_blocks<true>(o, argmax + p * s.oh * s.ow, i, s.oh, f, w);
    else
      flat_blocks<false>(o, nullptr, i, s.oh, f, w);
  }
}

}  // namespace avx512
}  // namespace simdnet
