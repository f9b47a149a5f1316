// SPDX-License-Identifier: MIT
// png_rows_to_planes_ref: PNG row filters (PNG spec, section 9: None, Sub, Up, Average, Paeth) undone in place, then
// the samples to planar floats through a table, row by row while the row is in cache. The same bytes and floats as
// lib/data/png-fast.ts's unfilter() and planar loop, which stay as the fallback (and the reference in the tests).
#include "png_rows.h"

namespace simdnet {
namespace {

inline uint8_t paeth(int a, int b, int c) {
  const int da = b - c;  // |p - a| for p = a + b - c
  const int db = a - c;  // |p - b|
  const int dc = da + db;
  const int pa = da < 0 ? -da : da;
  const int pb = db < 0 ? -db : db;
  const int pc = dc < 0 ? -dc : dc;
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// One row's filter undone: row [stride] (after its filter byte), up [stride] the row above, unfiltered (null on the
// first row, where Up, Average and Paeth see zeros). False for an unknown filter.
bool unfilter_row(uint8_t* row, const uint8_t* up, int filter, int64_t stride, int64_t bpp) {
  if (up == nullptr) {
    if (filter == 2) filter = 0;  // Up of zeros
    if (filter == 4) filter = 1;  // Paeth with b = c = 0 picks a: Sub
  }
  switch (filter) {
    case 0:
      return true;
    case 1:
      for (int64_t i = bpp; i < stride; ++i) row[i] = static_cast<uint8_t>(row[i] + row[i - bpp]);
      return true;
    case 2:
      for (int64_t i = 0; i < stride; ++i) row[i] = static_cast<uint8_t>(row[i] + up[i]);
      return true;
    case 3:
      if (up == nullptr) {
        for (int64_t i = bpp; i < stride; ++i) row[i] = static_cast<uint8_t>(row[i] + (row[i - bpp] >> 1));
        return true;
      }
      for (int64_t i = 0; i < bpp; ++i) row[i] = static_cast<uint8_t>(row[i] + (up[i] >> 1));
      for (int64_t i = bpp; i < stride; ++i) row[i] = static_cast<uint8_t>(row[i] + ((row[i - bpp] + up[i]) >> 1));
      return true;
    case 4:
      for (int64_t i = 0; i < bpp; ++i) row[i] = static_cast<uint8_t>(row[i] + up[i]);
      for (int64_t i = bpp; i < stride; ++i)
        row[i] = static_cast<uint8_t>(row[i] + paeth(row[i - bpp], up[i], up[i - bpp]));
      return true;
    default:
      return false;
  }
}

}  // namespace

bool png_rows_to_planes_ref(float* out, uint8_t* raw, const float* table, const PngRowsShape& s) {
  const int64_t stride = s.width * s.bpp;
  const int64_t plane = s.width * s.height;
  float* r = out;
  float* g = out + plane;
  float* b = out + 2 * plane;
  for (int64_t y = 0; y < s.height; ++y) {
    uint8_t* row = raw + y * (stride + 1) + 1;
    const uint8_t* up = y == 0 ? nullptr : row - (stride + 1);
    if (!unfilter_row(row, up, row[-1], stride, s.bpp)) return false;
    const int64_t o = y * s.width;
    if (s.color) {
      for (int64_t x = 0; x < s.width; ++x) {
        const uint8_t* p = row + x * s.bpp;
        r[o + x] = table[p[0]];
        g[o + x] = table[256 + p[1]];
        b[o + x] = table[512 + p[2]];
      }
    } else {
      for (int64_t x = 0; x < s.width; ++x) {
        const uint8_t v = row[x * s.bpp];
        r[o + x] = table[v];
        g[o + x] = table[256 + v];
        b[o + x] = table[512 + v];
      }
    }
  }
  return true;
}

}  // namespace simdnet
