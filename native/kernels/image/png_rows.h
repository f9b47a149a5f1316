// SPDX-License-Identifier: MIT
// Inflated PNG rows to planar floats: the five row filters undone, then each sample mapped through a per-channel
// table. No zlib and no chunk parsing here (lib/data/png-fast.ts inflates with node's zlib and checks the chunks).
#pragma once
#include <cstdint>

namespace simdnet {

// 8-bit, not interlaced: bpp 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA); `color` for bpp 3 and 4.
struct PngRowsShape {
  int64_t width;
  int64_t height;
  int64_t bpp;
  bool color;
};

// out [3, height, width]; raw [height, 1 + width * bpp] (each row: its filter byte, then its samples), unfiltered in
// place; table [3, 256]: sample v of channel c becomes table[256 * c + v] (a gray sample goes to all three planes,
// alpha is dropped). Returns false, with out and raw partly written, at the first unknown filter byte (above 4).
bool png_rows_to_planes_ref(float* out, uint8_t* raw, const float* table, const PngRowsShape& s);

}  // namespace simdnet
