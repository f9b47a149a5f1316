// SPDX-License-Identifier: MIT
// Weight-gradient sums over a batch: each fixed block of images (fixed by the shape, never by the thread count) sums
// into its own partial, and the partials are added into the gradient in block order. Both the zeroing and that final
// add used to run on the calling thread after the loop (about 1.4% of a two-thread ResNet-20 step with the other
// thread idle); here each block zeroes its own partial inside its item, and the add is cut into ranges of gradient
// values across the threads. Each value still gets the same adds in the same order, so the bits do not change.
#pragma once
#include <cstdint>
#include <cstring>

#include "parallel.h"

namespace simdnet {

// Zeroes block `blk`'s partial of `stride` floats: call it at the start of that block's item.
inline float* zeroed_partial(float* partials, int64_t blk, int64_t stride) {
  float* part = partials + blk * stride;
  std::memset(part, 0, sizeof(float) * static_cast<size_t>(stride));
  return part;
}

// dst[i] += partials[b * stride + i] for b = 0, 1, ..., blocks - 1 in order, for i in [0, count).
inline void add_partials(float* dst, const float* partials, int64_t blocks, int64_t stride, int64_t count) {
  const double work = static_cast<double>(blocks) * static_cast<double>(count);
  parallel_columns(count, 16, work, [&](int64_t begin, int64_t end) {
    for (int64_t b = 0; b < blocks; ++b) {
      const float* part = partials + b * stride;
      for (int64_t i = begin; i < end; ++i) dst[i] += part[i];
    }
  });
}

// The same for partials stored transposed: dst[o * rows + k] += partials[b * stride + k * ld + o] for o < cols,
// k < rows (the channel weight gradient's [taps, ocp] blocks into [oc, taps]); cut by k. In tiles of 16 x 16 values
// held on the stack while every block adds into them: adding each block straight into dst touched a cache line per
// value and block (a quarter of the Winograd weight gradient's time at 128 channels).
inline void add_partials_transposed(float* dst, const float* partials, int64_t blocks, int64_t stride, int64_t rows,
                                    int64_t cols, int64_t ld) {
  constexpr int64_t kTile = 16;
  // Each add waits on a partial read through the cache and a strided store, some 16 peak flops' time: counted as one
  // flop, the 16- and 32-channel convs' sums (74k-295k adds) stayed on the calling thread, 1% of a ResNet-20 step
  // with the other thread idle.
  constexpr double kFlopsPerAdd = 16;
  const double work = kFlopsPerAdd * static_cast<double>(blocks) * static_cast<double>(rows * cols);
  parallel_columns(rows, kTile, work, [&](int64_t begin, int64_t end) {
    float acc[kTile][kTile];  // [k - k0][o - o0]
    for (int64_t k0 = begin; k0 < end; k0 += kTile)
      for (int64_t o0 = 0; o0 < cols; o0 += kTile) {
        const int64_t nk = end - k0 < kTile ? end - k0 : kTile, no = cols - o0 < kTile ? cols - o0 : kTile;
        for (int64_t o = 0; o < no; ++o)
          for (int64_t k = 0; k < nk; ++k) acc[k][o] = dst[(o0 + o) * rows + k0 + k];
        for (int64_t b = 0; b < blocks; ++b) {
          const float* part = partials + b * stride + k0 * ld + o0;
          for (int64_t k = 0; k < nk; ++k)
            for (int64_t o = 0; o < no; ++o) acc[k][o] += part[k * ld + o];
        }
        for (int64_t o = 0; o < no; ++o)
          for (int64_t k = 0; k < nk; ++k) dst[(o0 + o) * rows + k0 + k] = acc[k][o];
      }
  });
}

}  // namespace simdnet
