// SPDX-License-Identifier: MIT
// conv2d over a batch with the channel-vectorised direct kernels (forward and weight gradient):
// for many output channels on narrow rows, where vectors along a row would be mostly empty.
// Inputs are copied zero-padded per image; pixel and tap address tables replace im2col.
#include <algorithm>
#include <cstring>
#include <vector>

#include "conv2d_direct_op.h"
#include "conv2d_pack_cache.h"
#include "parallel.h"
#include "partials.h"
#include "scratch.h"

namespace simdnet {
namespace {

constexpr int64_t kImagesPerPartial = 4;  // fixed, so sums do not depend on the thread count
constexpr int64_t kTransposeBlock = 8;    // pixels per block of the weight gradient's dout transpose
constexpr int64_t kBiasChunk = 256;       // channels per pass of the bias gradient's sums (a stack array)

struct Geometry {
  int64_t hp, wp, taps, pixels, ocp;
  int64_t* base;    // [pixels], in the calling thread's scratch
  int64_t* offset;  // [taps]
};

Geometry geometry(const Conv2dShape& s, int64_t lanes) {
  Geometry g;
  g.hp = s.h + 2 * s.ph;
  g.wp = s.w + 2 * s.pw;
  g.taps = s.c * s.kh * s.kw;
  g.pixels = s.oh * s.ow;
  g.ocp = (s.oc + lanes - 1) / lanes * lanes;
  // Both tables in one scratch buffer (2 floats per int64), so a warm call allocates nothing.
  g.base = reinterpret_cast<int64_t*>(thread_scratch(ScratchSlot::kTables, 2 * (g.pixels + g.taps)));
  g.offset = g.base + g.pixels;
  for (int64_t oy = 0; oy < s.oh; ++oy)
    for (int64_t ox = 0; ox < s.ow; ++ox) g.base[oy * s.ow + ox] = oy * s.sh * g.wp + ox * s.sw;
  for (int64_t ci = 0; ci < s.c; ++ci)
    for (int64_t ky = 0; ky < s.kh; ++ky)
      for (int64_t kx = 0; kx < s.kw; ++kx)
        g.offset[(ci * s.kh + ky) * s.kw + kx] = (ci * g.hp + ky * s.dh) * g.wp + kx * s.dw;
  return g;
}

// Output rows cut into `count` bands per image (count > 1 only for fewer images than threads), each band `rows` or
// fewer rows high.
struct RowBands {
  int64_t count, rows;
};

RowBands row_bands(const Conv2dShape& s, double flops_per_image) {
  const int64_t count = parts_per_item(s.n, s.oh, flops_per_image);
  return {count, (s.oh + count - 1) / count};
}

// The shape whose geometry a band of bands.rows output rows uses: its padded input is just the rows those read.
Conv2dShape band_shape(const Conv2dShape& s, const RowBands& bands) {
  if (bands.count == 1) return s;
  Conv2dShape r = s;
  r.oh = bands.rows;
  r.h = (bands.rows - 1) * s.sh + (s.kh - 1) * s.dh + 1 - 2 * s.ph;
  return r;
}

// One image zero-padded to [c, hp, wp] (the input itself when there is no padding), in this thread's scratch.
const float* padded_image(const float* image, const Conv2dShape& s, const Geometry& g) {
  if (s.ph == 0 && s.pw == 0) return image;
  return pad_rows(ScratchSlot::kColumns, image, s.c, s.h, s.w, -s.ph, g.hp, s.pw, g.wp);
}

// The padded rows of one image that output rows from `oy0` on read (g.hp of them: geometry of band_shape), zero-padded
// to [c, g.hp, g.wp] in this thread's scratch.
const float* padded_band(const float* image, int64_t oy0, const Conv2dShape& s, const Geometry& g) {
  return pad_rows(ScratchSlot::kColumns, image, s.c, s.h, s.w, oy0 * s.sh - s.ph, g.hp, s.pw, g.wp);
}

}  // namespace

bool conv2d_channel_applies(const Conv2dShape& s, const KernelTable& t) {
  if (t.conv2d_channel_forward == nullptr || s.groups != 1) return false;
  const int64_t ocp = (s.oc + t.vec_lanes - 1) / t.vec_lanes * t.vec_lanes;
  return s.oc * 4 >= ocp * 3;  // at least 3/4 of each channel vector is used
}

bool conv2d_channel_blocked_applies(const Conv2dShape& s, const KernelTable& t) {
  // Output rows of two or more vectors keep the row-direct kernels, which measured as fast there.
  return conv2d_channel_applies(s, t) && s.oc > t.vec_lanes && (s.sw == 1 || s.sw == 2) && s.ow < 2 * t.vec_lanes;
}

void conv2d_channel_forward_op(const KernelTable& t, float* out, const float* inp, const float* w, const float* b,
                               const Conv2dShape& s, bool fuse_relu, ConvPackCache* cache,
                               const ConvResidual& residual) {
  const int64_t lanes = t.vec_lanes, ocp = (s.oc + lanes - 1) / lanes * lanes, taps = s.c * s.kh * s.kw;
  // Weights [taps, ocp], zero-padded to whole vectors.
  const auto pack = [&](float* wpack) {
    std::memset(wpack, 0, sizeof(float) * static_cast<size_t>(taps * ocp));
    // In 16 x 16 blocks: a plain transpose touched a new cache line per weight (at batch 1 with 128
    // channels it took longer than the convolution).
    constexpr int64_t kBlock = 16;
    for (int64_t k0 = 0; k0 < taps; k0 += kBlock) {
      const int64_t k1 = std::min(taps, k0 + kBlock);
      for (int64_t o0 = 0; o0 < s.oc; o0 += kBlock)
        for (int64_t k = k0; k < k1; ++k)
          for (int64_t o = o0; o < std::min(s.oc, o0 + kBlock); ++o) wpack[k * ocp + o] = w[o * taps + k];
    }
  };
  const float* wpack = nullptr;
  if (cache != nullptr) {
    wpack = cache->get(w, kChannelPath, 1, lanes, taps * ocp, pack);
  } else {
    float* scratch = thread_scratch(ScratchSlot::kPackedWeights, taps * ocp);
    pack(scratch);
    wpack = scratch;
  }
  // Fewer images than threads: each image's output rows are cut into bands, each padded and convolved by one work
  // item (one fork/join per conv, all channel vectors in every tile); every output value is still one tile's sum over
  // the same taps in the same order.
  const int64_t in_image = s.c * s.h * s.w, plane = s.oh * s.ow;
  const RowBands bands = row_bands(s, 2.0 * static_cast<double>(taps) * static_cast<double>(s.oc * plane));
  const Geometry g = geometry(band_shape(s, bands), lanes);
  parallel_for(s.n * bands.count, [&](int64_t item) {
    const int64_t n = item / bands.count;
    const PartRange rows = part_range(s.oh, 1, bands.count, item % bands.count);
    const float* image =
        bands.count == 1 ? padded_image(inp + n * in_image, s, g) : padded_band(inp + n * in_image, rows.begin, s, g);
    float* dst = out + n * s.oc * plane;
    const int64_t oh = rows.end - rows.begin;
    t.conv2d_channel_forward({oh * s.ow, g.taps, s.oc, ocp, oh, s.ow, s.sw == 1, image, g.base, g.offset, wpack, b,
                              dst + rows.begin * s.ow, fuse_relu && residual.data == nullptr, plane});
    // The residual while the band is still in cache.
    if (residual.data != nullptr)
      conv2d_add_residual(dst, residual.at(n, 0), s.oc, s.oh, s.ow, rows.begin, rows.end, fuse_relu);
  });
}

Conv2dShape transposed_shape(const Conv2dShape& s) {
  Conv2dShape r = s;
  r.c = s.oc;
  r.h = s.oh;
  r.w = s.ow;
  r.oc = s.c;
  r.ph = s.kh - 1 - s.ph;
  r.pw = s.kw - 1 - s.pw;
  r.oh = s.h;
  r.ow = s.w;
  return r;
}

namespace {

// One dimension of a strided conv's input gradient split into stride phases: the input positions y = s*Y + phase
// get contributions only from the taps k with (phase + pad - k) divisible by s, from dout row Y + d(k), d(k) =
// (phase + pad - k) / s. So each phase (a pair of row and column phases) is a stride-1 conv of dout padded by
// `before` and `after` with its own few taps.
struct PhaseAxis {
  int64_t before = 0, after = 0;  // dout padding that every phase's reads fit in
};

PhaseAxis phase_axis(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  PhaseAxis a;
  for (int64_t phase = 0; phase < std::min(stride, in); ++phase) {
    const int64_t count = (in - phase + stride - 1) / stride;
    for (int64_t kk = 0; kk < k; ++kk) {
      if ((phase + pad - kk) % stride != 0) continue;
      const int64_t d = (phase + pad - kk) / stride;
      a.before = std::max(a.before, -d);
      a.after = std::max(a.after, count - 1 + d - (out - 1));
    }
  }
  return a;
}

bool strided(const Conv2dShape& s) { return s.sh != 1 || s.sw != 1; }

// dinp += (add) or = the input gradient of a strided conv, one stride-1 channel conv per phase on the padded dout
// (see PhaseAxis), each phase's [c, pixels] scattered onto its input positions. Replaces im2col + GEMM + col2im.
void conv2d_channel_phase_dinput_op(const KernelTable& t, float* dinp, const float* dout, const float* w,
                                    const Conv2dShape& s, bool add) {
  const PhaseAxis ay = phase_axis(s.h, s.oh, s.kh, s.sh, s.ph), ax = phase_axis(s.w, s.ow, s.kw, s.sw, s.pw);
  const int64_t hp = s.oh + ay.before + ay.after, wp = s.ow + ax.before + ax.after;
  const int64_t lanes = t.vec_lanes, ocp = (s.c + lanes - 1) / lanes * lanes;
  const int64_t phases = std::min(s.sh, s.h) * std::min(s.sw, s.w);
  // Per phase: rows, columns, taps and where its tables and packed weights start.
  struct Phase {
    int64_t py, px, rows, cols, taps, base, offset, wpack;
  };
  std::vector<Phase> list;
  int64_t table_size = 0, wpack_size = 0;
  for (int64_t p = 0; p < phases; ++p) {
    Phase f{p / std::min(s.sw, s.w), p % std::min(s.sw, s.w), 0, 0, 0, 0, 0, 0};
    f.rows = (s.h - f.py + s.sh - 1) / s.sh;
    f.cols = (s.w - f.px + s.sw - 1) / s.sw;
    for (int64_t ky = 0; ky < s.kh; ++ky)
      for (int64_t kx = 0; kx < s.kw; ++kx)
        f.taps += (f.py + s.ph - ky) % s.sh == 0 && (f.px + s.pw - kx) % s.sw == 0 ? s.oc : 0;
    if (f.taps == 0) continue;  // no tap reaches these positions: their gradient is 0
    f.base = table_size;
    f.offset = f.base + f.rows * f.cols;
    table_size = f.offset + f.taps;
    f.wpack = wpack_size;
    wpack_size += f.taps * ocp;
    list.push_back(f);
  }
  // The tables (2 floats per int64) and the weights [taps of (o, ky, kx), ocp of input channels], on this thread.
  int64_t* tables = reinterpret_cast<int64_t*>(thread_scratch(ScratchSlot::kTables, 2 * table_size));
  float* wpack = thread_scratch(ScratchSlot::kPackedWeights, wpack_size);
  std::memset(wpack, 0, sizeof(float) * static_cast<size_t>(wpack_size));
  for (const Phase& f : list) {
    for (int64_t y = 0; y < f.rows; ++y)
      for (int64_t x = 0; x < f.cols; ++x) tables[f.base + y * f.cols + x] = y * wp + x;
    int64_t tap = 0;
    for (int64_t o = 0; o < s.oc; ++o)
      for (int64_t ky = 0; ky < s.kh; ++ky)
        for (int64_t kx = 0; kx < s.kw; ++kx) {
          if ((f.py + s.ph - ky) % s.sh != 0 || (f.px + s.pw - kx) % s.sw != 0) continue;
          const int64_t dy = (f.py + s.ph - ky) / s.sh, dx = (f.px + s.pw - kx) / s.sw;
          tables[f.offset + tap] = (o * hp + dy + ay.before) * wp + dx + ax.before;
          for (int64_t ci = 0; ci < s.c; ++ci)
            wpack[f.wpack + tap * ocp + ci] = w[((o * s.c + ci) * s.kh + ky) * s.kw + kx];
          ++tap;
        }
  }
  const int64_t in_image = s.c * s.h * s.w, out_image = s.oc * s.oh * s.ow;
  parallel_for(s.n, [&](int64_t n) {
    float* grad = thread_scratch(ScratchSlot::kColumns, s.oc * hp * wp);
    std::memset(grad, 0, sizeof(float) * static_cast<size_t>(s.oc * hp * wp));
    for (int64_t r = 0; r < s.oc * s.oh; ++r)
      std::memcpy(grad + ((r / s.oh) * hp + r % s.oh + ay.before) * wp + ax.before, dout + n * out_image + r * s.ow,
                  sizeof(float) * static_cast<size_t>(s.ow));
    float* dx = thread_scratch(ScratchSlot::kColumnGrad, s.c * ((s.h + 1) * (s.w + 1)));
    float* dst = dinp + n * in_image;
    // The phases cover every input position once; one without taps leaves its positions at 0.
    const bool every_phase = static_cast<int64_t>(list.size()) == phases;
    if (!add && !every_phase) std::memset(dst, 0, sizeof(float) * static_cast<size_t>(in_image));
    const bool assign = !add && every_phase;
    for (const Phase& f : list) {
      const int64_t pixels = f.rows * f.cols;
      t.conv2d_channel_forward({pixels, f.taps, s.c, ocp, f.rows, f.cols, true, grad, tables + f.base,
                                tables + f.offset, wpack + f.wpack, nullptr, dx, false});
      for (int64_t ci = 0; ci < s.c; ++ci)
        for (int64_t y = 0; y < f.rows; ++y) {
          float* row = dst + (ci * s.h + y * s.sh + f.py) * s.w + f.px;
          const float* src = dx + ci * pixels + y * f.cols;
          if (assign) {
            for (int64_t x = 0; x < f.cols; ++x) row[x * s.sw] = src[x];
          } else {
            for (int64_t x = 0; x < f.cols; ++x) row[x * s.sw] += src[x];
          }
        }
    }
  });
}

}  // namespace

bool conv2d_channel_dinput_applies(const Conv2dShape& s, const KernelTable& t) {
  if (s.dh != 1 || s.dw != 1 || s.groups != 1) return false;
  // Strided: each phase's outputs are the c input channels, which must fill the channel vectors.
  if (strided(s)) return t.conv2d_channel_forward != nullptr && conv2d_channel_applies(transposed_shape(s), t);
  if (s.ph > s.kh - 1 || s.pw > s.kw - 1) return false;
  return conv2d_channel_blocked_applies(transposed_shape(s), t);
}

void conv2d_channel_dinput_op(const KernelTable& t, float* dinp, const float* dout, const float* w,
                              const Conv2dShape& s, bool add) {
  if (strided(s)) {
    conv2d_channel_phase_dinput_op(t, dinp, dout, w, s, add);
    return;
  }
  const Conv2dShape r = transposed_shape(s);
  const Geometry g = geometry(r, t.vec_lanes);
  // Flipped weights [taps of (o, ky, kx), ocp of input channels], zero-padded columns.
  float* wpack = thread_scratch(ScratchSlot::kPackedWeights, g.taps * g.ocp);
  std::memset(wpack, 0, sizeof(float) * static_cast<size_t>(g.taps * g.ocp));
  for (int64_t o = 0; o < s.oc; ++o)
    for (int64_t ci = 0; ci < s.c; ++ci)
      for (int64_t ky = 0; ky < s.kh; ++ky)
        for (int64_t kx = 0; kx < s.kw; ++kx)
          wpack[((o * s.kh + ky) * s.kw + kx) * g.ocp + ci] =
              w[((o * s.c + ci) * s.kh + (s.kh - 1 - ky)) * s.kw + (s.kw - 1 - kx)];
  const int64_t in_image = s.c * s.h * s.w;
  parallel_for(s.n, [&](int64_t n) {
    const float* grad = padded_image(dout + n * s.oc * s.oh * s.ow, r, g);
    // The kernel writes: straight into dinp when it is overwritten, else into scratch then added.
    float* dst = dinp + n * in_image;
    float* dx = add ? thread_scratch(ScratchSlot::kColumnGrad, in_image) : dst;
    t.conv2d_channel_forward(
        {g.pixels, g.taps, r.oc, g.ocp, r.oh, r.ow, true, grad, g.base, g.offset, wpack, nullptr, dx, false});
    if (add) {
      for (int64_t i = 0; i < in_image; ++i) dst[i] += dx[i];
    }
  });
}

void conv2d_channel_dweight_op(const KernelTable& t, float* dw, float* db, const float* dout, const float* inp,
                               const Conv2dShape& s) {
  const Geometry g = geometry(s, t.vec_lanes);
  const int64_t blocks = (s.n + kImagesPerPartial - 1) / kImagesPerPartial;
  const int64_t stride = g.taps * g.ocp + s.oc;  // one block's [taps, ocp] dW^T and db
  float* partials = thread_scratch(ScratchSlot::kPartials, blocks * stride);
  parallel_for(blocks, [&](int64_t blk) {
    float* part = zeroed_partial(partials, blk, stride);
    float* dout_t = thread_scratch(ScratchSlot::kGradBlock, g.pixels * g.ocp);
    for (int64_t n = blk * kImagesPerPartial; n < std::min(s.n, (blk + 1) * kImagesPerPartial); ++n) {
      const float* grad = dout + n * s.oc * g.pixels;
      // [oc, pixels] -> [pixels, ocp] with zero columns beyond oc (none when oc fills the vectors), kTransposeBlock
      // pixels at a time: their rows of dout_t stay in L1 while every channel writes them (a channel's whole column
      // at once wrote a cache line per value of a 128 KB+ buffer). VGG conv1's dW + db at batch 128 took 7.0-7.4 ms
      // with blocks of 64 pixels, 7.8-8.0 with 32, 5.4 with 16, 4.8-5.2 (once 6.4) with 8 and 5.3-5.5 with 4.
      if (s.oc < g.ocp) std::memset(dout_t, 0, sizeof(float) * static_cast<size_t>(g.pixels * g.ocp));
      for (int64_t p0 = 0; p0 < g.pixels; p0 += kTransposeBlock) {
        const int64_t p1 = std::min(g.pixels, p0 + kTransposeBlock);
        for (int64_t o = 0; o < s.oc; ++o)
          for (int64_t p = p0; p < p1; ++p) dout_t[p * g.ocp + o] = grad[o * g.pixels + p];
      }
      if (dw != nullptr) {
        const float* image = padded_image(inp + n * s.c * s.h * s.w, s, g);
        t.conv2d_channel_dweight({g.pixels, g.taps, g.ocp, image, g.base, g.offset, dout_t, part});
      }
      if (db != nullptr) {
        // Each channel's sum in pixel order, as a sum along its dout row, but read from dout_t's rows: the channels
        // run side by side in vectors (one serial sum per channel waited on every add).
        for (int64_t o0 = 0; o0 < s.oc; o0 += kBiasChunk) {
          const int64_t len = std::min(s.oc - o0, kBiasChunk);
          float acc[kBiasChunk] = {};
          for (int64_t p = 0; p < g.pixels; ++p) {
            const float* row = dout_t + p * g.ocp + o0;
            for (int64_t o = 0; o < len; ++o) acc[o] += row[o];
          }
          for (int64_t o = 0; o < len; ++o) part[g.taps * g.ocp + o0 + o] += acc[o];
        }
      }
    }
  });
  if (dw != nullptr) add_partials_transposed(dw, partials, blocks, stride, g.taps, s.oc, g.ocp);
  if (db != nullptr) add_partials(db, partials + g.taps * g.ocp, blocks, stride, s.oc);
}

}  // namespace simdnet
