// SPDX-License-Identifier: MIT
// The "baseline" pooling kernel: max pooling with a 2x2 window and stride 2 (LeNet's case), branch-free selects over
// each row, SIMD128 rows on WebAssembly. Built once with the compiler's default flags; since session 20 only the
// WebAssembly table uses it: x64 and arm64 run pool2d_<isa>.cc, which handle LeNet's short rows (14 and 5 outputs)
// without a scalar tail. (This loop built with AVX-512 flags had measured 3x slower: its 16-wide loop never ran and
// the scalar tail did all the work; the AVX-512 kernel masks its loads and stores instead.)
#include <cmath>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#include "pool2d.h"

namespace simdnet {
namespace baseline {
namespace {

#ifdef __wasm_simd128__
// Outputs [ox, ox + 4) of one row, the scalar loop's selects on vectors: clang does not vectorise that loop for
// SIMD128 (the pairs need deinterleaving shuffles), and V8 ran it as scalar code.
// kArgmax false: the values alone (inference), the same selects without the index vectors.
template <bool kArgmax>
void chunk_2x2_simd128(float* o, int32_t* a, const float* r0, const float* r1, int64_t ox, int32_t base,
                       const Pool2dShape& s) {
  const v128_t at1 = wasm_i32x4_splat(1), at2 = wasm_i32x4_splat(static_cast<int32_t>(s.w));
  const v128_t at3 = wasm_i32x4_splat(static_cast<int32_t>(s.w) + 1);
  const v128_t a0 = wasm_v128_load(r0 + 2 * ox), a1 = wasm_v128_load(r0 + 2 * ox + 4);
  const v128_t b0 = wasm_v128_load(r1 + 2 * ox), b1 = wasm_v128_load(r1 + 2 * ox + 4);
  const v128_t v0 = wasm_i32x4_shuffle(a0, a1, 0, 2, 4, 6), v1 = wasm_i32x4_shuffle(a0, a1, 1, 3, 5, 7);
  const v128_t v2 = wasm_i32x4_shuffle(b0, b1, 0, 2, 4, 6), v3 = wasm_i32x4_shuffle(b0, b1, 1, 3, 5, 7);
  // Window order (0,0), (0,1), (1,0), (1,1); strictly greater or NaN replaces, as in the scalar loop.
  v128_t m = v0, k = wasm_i32x4_splat(0);
  v128_t take = wasm_v128_or(wasm_f32x4_gt(v1, m), wasm_f32x4_ne(v1, v1));
  m = wasm_v128_bitselect(v1, m, take);
  if (kArgmax) k = wasm_v128_bitselect(at1, k, take);
  take = wasm_v128_or(wasm_f32x4_gt(v2, m), wasm_f32x4_ne(v2, v2));
  m = wasm_v128_bitselect(v2, m, take);
  if (kArgmax) k = wasm_v128_bitselect(at2, k, take);
  take = wasm_v128_or(wasm_f32x4_gt(v3, m), wasm_f32x4_ne(v3, v3));
  m = wasm_v128_bitselect(v3, m, take);
  wasm_v128_store(o + ox, m);
  if (kArgmax) {
    k = wasm_v128_bitselect(at3, k, take);
    const int32_t col = base + static_cast<int32_t>(2 * ox);
    wasm_v128_store(a + ox, wasm_i32x4_add(k, wasm_i32x4_make(col, col + 2, col + 4, col + 6)));
  }
}

// Four outputs of one row at a time; the last chunk of a row overlaps the one before it (the same values again)
// instead of a scalar tail (LeNet's rows of 14 and 5 outputs: 2 and 1 scalar outputs before). Returns the next output
// column: rows under 4 outputs stay scalar.
template <bool kArgmax>
int64_t row_2x2_simd128(float* o, int32_t* a, const float* r0, const float* r1, int32_t base, const Pool2dShape& s) {
  if (s.ow < 4) return 0;
  int64_t ox = 0;
  for (; ox + 4 <= s.ow; ox += 4) chunk_2x2_simd128<kArgmax>(o, a, r0, r1, ox, base, s);
  if (ox < s.ow) chunk_2x2_simd128<kArgmax>(o, a, r0, r1, s.ow - 4, base, s);
  return s.ow;
}
#endif

// Both variants in one body: with kArgmax false (argmax null) the index work is compiled out.
template <bool kArgmax>
void forward_2x2(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  const int64_t planes = s.n * s.c, in_plane = s.h * s.w, out_plane = s.oh * s.ow;
  for (int64_t p = 0; p < planes; ++p) {
    const float* ip = inp + p * in_plane;
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      const float* r0 = ip + 2 * oy * s.w;
      const float* r1 = r0 + s.w;
      float* o = out + p * out_plane + oy * s.ow;
      int32_t* a = kArgmax ? argmax + p * out_plane + oy * s.ow : nullptr;
      const int32_t base = static_cast<int32_t>(2 * oy * s.w);
#ifdef __wasm_simd128__
      int64_t ox = row_2x2_simd128<kArgmax>(o, a, r0, r1, base, s);
#else
      int64_t ox = 0;
#endif
      for (; ox < s.ow; ++ox) {
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
        if (kArgmax) a[ox] = base + static_cast<int32_t>(2 * ox) + (k & 1) + (k >> 1) * static_cast<int32_t>(s.w);
      }
    }
  }
}

}  // namespace

void maxpool2d_2x2_forward(float* out, int32_t* argmax, const float* inp, const Pool2dShape& s) {
  if (argmax != nullptr)
    forward_2x2<true>(out, argmax, inp, s);
  else
    forward_2x2<false>(out, nullptr, inp, s);
}

}  // namespace baseline
}  // namespace simdnet
