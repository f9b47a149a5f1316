// SPDX-License-Identifier: MIT
// png_rows_to_planes_ref: PNG row filters (PNG spec, section 9: None, Sub, Up, Average, Paeth) undone in place, then
// the samples to planar floats through a table, row by row while the row is in cache. The same bytes and floats as
// lib/data/png-fast.ts's rowsToPlanes (the reference in test/native/png-rows.test.ts).
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
  // pa <= pb && pa <= pc ? a : pb <= pc ? b : c, as selects rather than branches (natural images mispredict them)
  const int bc = pb <= pc ? b : c;
  const int pbc = pb <= pc ? pb : pc;
  return static_cast<uint8_t>(pa <= pbc ? a : bc);
}

// One row's filter undone: row [stride] (after its filter byte), up [stride] the row above, unfiltered (null on the
// first row, where Up, Average and Paeth see zeros). False for an unknown filter. B (bpp) is a template argument, so
// each pixel's B left neighbours stay in registers: B independent chains through the row rather than one reload of
// the byte just stored per sample (about half the time of the byte loop on the 32x32 RGBA bench PNG, docs/serving.md).
template <int B>
bool unfilter_row(uint8_t* __restrict row, const uint8_t* __restrict up, int filter, int64_t stride) {
  if (up == nullptr) {
    if (filter == 2) filter = 0;  // Up of zeros
    if (filter == 4) filter = 1;  // Paeth with b = c = 0 picks a: Sub
  }
  uint8_t a[B];  // the left neighbours (the previous pixel, unfiltered)
  switch (filter) {
    case 0:
      return true;
    case 1:
      for (int k = 0; k < B; ++k) a[k] = row[k];
      for (int64_t i = B; i < stride; i += B)
        for (int k = 0; k < B; ++k) a[k] = row[i + k] = static_cast<uint8_t>(row[i + k] + a[k]);
      return true;
    case 2:
      for (int64_t i = 0; i < stride; ++i) row[i] = static_cast<uint8_t>(row[i] + up[i]);
      return true;
    case 3:
      if (up == nullptr) {
        for (int k = 0; k < B; ++k) a[k] = row[k];
        for (int64_t i = B; i < stride; i += B)
          for (int k = 0; k < B; ++k) a[k] = row[i + k] = static_cast<uint8_t>(row[i + k] + (a[k] >> 1));
        return true;
      }
      for (int k = 0; k < B; ++k) a[k] = row[k] = static_cast<uint8_t>(row[k] + (up[k] >> 1));
      for (int64_t i = B; i < stride; i += B)
        for (int k = 0; k < B; ++k) a[k] = row[i + k] = static_cast<uint8_t>(row[i + k] + ((a[k] + up[i + k]) >> 1));
      return true;
    case 4:
      for (int k = 0; k < B; ++k) a[k] = row[k] = static_cast<uint8_t>(row[k] + up[k]);
      for (int64_t i = B; i < stride; i += B)
        for (int k = 0; k < B; ++k)
          a[k] = row[i + k] = static_cast<uint8_t>(row[i + k] + paeth(a[k], up[i + k], up[i + k - B]));
      return true;
    default:
      return false;
  }
}

// The rows of one bpp: each unfiltered, then its samples through the table into the planes.
template <int B>
bool rows_to_planes(float* out, uint8_t* raw, const float* table, int64_t width, int64_t height) {
  const int64_t stride = width * B;
  const int64_t plane = width * height;
  float* r = out;
  float* g = out + plane;
  float* b = out + 2 * plane;
  for (int64_t y = 0; y < height; ++y) {
    uint8_t* row = raw + y * (stride + 1) + 1;
    const uint8_t* up = y == 0 ? nullptr : row - (stride + 1);
    if (!unfilter_row<B>(row, up, row[-1], stride)) return false;
    const int64_t o = y * width;
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t* p = row + x * B;
      // gray (B 1 or 2) goes to all three planes; alpha (the last sample of B 2 and 4) is dropped
      r[o + x] = table[p[0]];
      g[o + x] = table[256 + p[B >= 3 ? 1 : 0]];
      b[o + x] = table[512 + p[B >= 3 ? 2 : 0]];
    }
  }
  return true;
}

}  // namespace

bool png_rows_to_planes_ref(float* out, uint8_t* raw, const float* table, const PngRowsShape& s) {
  switch (s.bpp) {
    case 1:
      return rows_to_planes<1>(out, raw, table, s.width, s.height);
    case 2:
      return rows_to_planes<2>(out, raw, table, s.width, s.height);
    case 3:
      return rows_to_planes<3>(out, raw, table, s.width, s.height);
    default:
      return rows_to_planes<4>(out, raw, table, s.width, s.height);
  }
}

}  // namespace simdnet
