// SPDX-License-Identifier: MIT
// conv2d over a batch with the direct stride-1 kernels: each image is copied into a zero-padded
// buffer whose rows are wide enough for whole-vector reads, then convolved in place of im2col.
// The input gradient is the same kernel run on the padded output gradient with flipped weights.
#include <algorithm>
#include <cstring>

#include "conv2d_direct_op.h"
#include "conv2d_pack_cache.h"
#include "parallel.h"
#include "partials.h"
#include "scratch.h"

namespace simdnet {
namespace {

// Images per weight-gradient partial sum: fixed, so results do not depend on the thread count.
constexpr int64_t kImagesPerPartial = 4;

int64_t vectors_for(int64_t width, int64_t lanes) { return (width + lanes - 1) / lanes; }

// A zero-padded copy of planes [c, h, w] with `pad` rows/columns around and rows of `ld` floats.
struct Padded {
  int64_t hp, ld;
};

Padded padded_layout(int64_t h, int64_t w, int64_t ph, int64_t pw, int64_t kw, int64_t out_w, int64_t lanes) {
  // Rows must hold the widest read: tap kw-1 plus all output vectors.
  const int64_t need = (kw - 1) + vectors_for(out_w, lanes) * lanes;
  return {h + 2 * ph, std::max(w + 2 * pw, need)};
}

}  // namespace

void pad_rows_to(float* dst, const float* src, int64_t c, int64_t h, int64_t w, int64_t row0, int64_t rows, int64_t pw,
                 int64_t ld) {
  // The 1-float margins of 3x3 padding 1 by a store, not a memset call per margin.
  const auto zero = [](float* p, int64_t n) {
    if (n == 1)
      *p = 0.0f;
    else if (n > 0)
      std::memset(p, 0, sizeof(float) * static_cast<size_t>(n));
  };
  // The 8-, 16- and 32-px rows of the CIFAR nets with a constant size, which the compiler inlines: a call per row took
  // 5-7% of the Winograd weight gradient's time.
  const auto copy = [w](float* d, const float* s) {
    if (w == 8)
      std::memcpy(d, s, 8 * sizeof(float));
    else if (w == 16)
      std::memcpy(d, s, 16 * sizeof(float));
    else if (w == 32)
      std::memcpy(d, s, 32 * sizeof(float));
    else
      std::memcpy(d, s, sizeof(float) * static_cast<size_t>(w));
  };
  // Each float once (a memset of the whole buffer before the copies was 1.5% of a ResNet-20 training step).
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t r = 0; r < rows; ++r) {
      float* row = dst + (ci * rows + r) * ld;
      const int64_t y = row0 + r;
      if (y < 0 || y >= h) {
        zero(row, ld);
        continue;
      }
      zero(row, pw);
      copy(row + pw, src + (ci * h + y) * w);
      zero(row + pw + w, ld - pw - w);
    }
  zero(dst + c * rows * ld, kDirectSlack);
}

float* pad_rows(ScratchSlot slot, const float* src, int64_t c, int64_t h, int64_t w, int64_t row0, int64_t rows,
                int64_t pw, int64_t ld) {
  float* dst = thread_scratch(slot, c * rows * ld + kDirectSlack);
  pad_rows_to(dst, src, c, h, w, row0, rows, pw, ld);
  return dst;
}

namespace {

// src [c, h, w] zero-padded by ph, pw into this thread's scratch with the layout p.
float* pad_planes(ScratchSlot slot, const float* src, int64_t c, int64_t h, int64_t w, int64_t ph, int64_t pw,
                  const Padded& p) {
  return pad_rows(slot, src, c, h, w, -ph, p.hp, pw, p.ld);
}

// Floats between channels of the weight gradient's dout: oh * ldd, plus one cache line when that is a multiple of 4 KB.
// A tile reads 4-6 channels' rows side by side, and 4 KB apart (32 x 32 px) they all fall in the same sets of an
// 8-way 32 KB L1 (4 KB of sets) together with the input rows: with the extra line the 16-channel weight gradient ran
// 25-50% faster, the copy included (dW 16 -> 16 channels at 32 px, batch 64, one thread, load 6: 50-52 GFLOP/s of CPU
// time in dout itself, 64-78 in the copy).
int64_t dout_channel_stride(const Conv2dShape& s, int64_t ldd) {
  const int64_t plane = s.oh * ldd;
  return plane % 1024 == 0 ? plane + 16 : plane;
}

// dout [oc, oh, ow] with rows of ldd floats (whole vectors), zeros beyond ow so padded lanes add nothing, and channels
// dout_channel_stride apart: dout itself when it already is so (ResNet's 8- and 16-px rows), else a copy in this
// thread's scratch.
const float* whole_rows(const float* g, const Conv2dShape& s, int64_t ldd) {
  const int64_t cs = dout_channel_stride(s, ldd);
  if (ldd == s.ow && cs == s.oh * ldd) return g;
  float* gpad = thread_scratch(ScratchSlot::kGradBlock, s.oc * cs);
  for (int64_t o = 0; o < s.oc; ++o)
    for (int64_t y = 0; y < s.oh; ++y) {
      float* row = gpad + o * cs + y * ldd;
      std::memcpy(row, g + (o * s.oh + y) * s.ow, sizeof(float) * static_cast<size_t>(s.ow));
      std::fill(row + s.ow, row + ldd, 0.0f);
    }
  return gpad;
}

// Whether the forward runs on the flattened output plane (flat_shifts below): on wasm only, where output rows that
// end inside a vector waste its lanes (LeNet conv2 on SIMD128: 10 of 12 lanes per row, and 3-vector tiles hold
// only 2 channels), and rows that are not whole 4-vector tiles run narrower, slower tiles (LeNet conv1's 28-pixel
// rows as 4 + 3 vectors: flattened, its forward measured 25% faster). The flattened conv adds up the taps of each
// output in another order (ci, kx, ky instead of ci, ky, kx), so the native builds keep the row order and their
// results.
bool flat_forward(const Conv2dShape& s, const KernelTable& t) {
#ifdef __wasm__
  return s.ow % (4 * t.vec_lanes) != 0;
#else
  (void)s;
  (void)t;
  return false;
#endif
}

// Rows [row0, row0 + rows) of the padded input of one image as kw shifted copies per channel, cut to ow columns:
// copy (ci, kx) holds padded[ci][y][x + kx] for x < ow, so output pixel p = oy * ow + ox of the band reads copy
// (ci, kx) at p + ky * ow. A conv of c * kw channels with kh x 1 taps over one row of (rows - kh + 1) * ow pixels:
// whole vectors run across output rows and no lane is wasted. Into this thread's scratch (+ kDirectSlack zeros).
// Every float is written once: zeros only where a row lies in the padding (none for LeNet's unpadded conv2).
float* flat_shifts(const float* src, const Conv2dShape& s, int64_t row0, int64_t rows) {
  const int64_t copy = rows * s.ow, size = s.c * s.kw * copy + kDirectSlack;
  float* dst = thread_scratch(ScratchSlot::kColumns, size);
  const auto zero = [](float* p, int64_t n) {
    if (n > 0) std::memset(p, 0, sizeof(float) * static_cast<size_t>(n));
  };
  for (int64_t ci = 0; ci < s.c; ++ci)
    for (int64_t kx = 0; kx < s.kw; ++kx) {
      // Padded column x + kx is input column x + kx - pw: the columns [x0, x1) inside the input.
      const int64_t x0 = std::min(std::max<int64_t>(s.pw - kx, 0), s.ow);
      const int64_t x1 = std::max(std::min(s.ow, s.w + s.pw - kx), x0);
      for (int64_t r = 0; r < rows; ++r) {
        float* row = dst + (ci * s.kw + kx) * copy + r * s.ow;
        const int64_t y = row0 + r;
        if (y < 0 || y >= s.h) {
          zero(row, s.ow);
          continue;
        }
        zero(row, x0);
        if (x1 > x0)
          std::memcpy(row + x0, src + (ci * s.h + y) * s.w + x0 + kx - s.pw,
                      sizeof(float) * static_cast<size_t>(x1 - x0));
        zero(row + x1, s.ow - x1);
      }
    }
  zero(dst + s.c * s.kw * copy, kDirectSlack);
  return dst;
}

// Each tap's offset from an output row's first input, (ci * hp + ky) * wp + kx, for the direct kernel's one loop over
// all taps (DirectConvArgs::tap_offset), in this thread's scratch; null on the native builds, which keep the nested
// loops. On wasm, V8's code for the nested loops (kw is 5, or 1 flattened) spent about as long on their bookkeeping
// as on the multiply-adds.
const int64_t* tap_offsets(int64_t c, int64_t hp, int64_t wp, int64_t kh, int64_t kw) {
#ifdef __wasm__
  int64_t* off = reinterpret_cast<int64_t*>(thread_scratch(ScratchSlot::kTables, 2 * c * kh * kw));
  for (int64_t ci = 0, t = 0; ci < c; ++ci)
    for (int64_t ky = 0; ky < kh; ++ky)
      for (int64_t kx = 0; kx < kw; ++kx) off[t++] = (ci * hp + ky) * wp + kx;
  return off;
#else
  (void)c, (void)hp, (void)wp, (void)kh, (void)kw;
  return nullptr;
#endif
}

// Whether the weight gradient runs on the flattened plane (flat_shifts): on wasm, when an image's output pixels are
// whole vectors (no lane reads past them). Its dot products then run over all oh * ow pixels in one loop instead of
// rows of a few vectors each, and sum each weight's products in another order than the row layout.
bool flat_dweight(const Conv2dShape& s, const KernelTable& t) {
#ifdef __wasm__
  return (s.oh * s.ow) % t.vec_lanes == 0;
#else
  (void)s;
  (void)t;
  return false;
#endif
}

// Whether the forward reads image n's input rows [.., row_end) where they are, without a padded copy: only without
// padding, where a row's vectors run past its end by p.ld - w floats (into the next row: they feed only lanes past ow,
// which are dropped), and only while that overrun stays inside the batch (the last image's last rows do not: copied).
// LeNet's conv1 (32 px rows, 36 wide reads) copied each image first: 2% of its inference time.
bool reads_in_place(const Conv2dShape& s, const Padded& p, int64_t n, int64_t row_end) {
  if (s.ph != 0 || s.pw != 0) return false;
  const int64_t last_read = ((n * s.c + s.c - 1) * s.h + row_end - 1) * s.w + p.ld;  // one past the last float read
  return last_read <= s.n * s.c * s.h * s.w;
}

}  // namespace

bool conv2d_direct_applies(const Conv2dShape& s, const KernelTable& t) {
  if (t.conv2d_direct_forward == nullptr) return false;
  if (s.sh != 1 || s.sw != 1 || s.dh != 1 || s.dw != 1 || s.groups != 1) return false;
  // Worth it when whole vectors along an output row are mostly used (LeNet conv1: 28 of 32).
  return s.ow * 4 >= vectors_for(s.ow, t.vec_lanes) * t.vec_lanes * 3;
}

void conv2d_direct_forward_op(const KernelTable& t, float* out, const float* inp, const float* w, const float* b,
                              const Conv2dShape& s, bool fuse_relu, ConvPackCache* cache,
                              const ConvResidual& residual) {
  const int64_t taps = s.c * s.kh * s.kw, out_plane = s.oh * s.ow;
  const bool flat = flat_forward(s, t);
  // Weights k-major [taps, oc], packed once on the calling thread; flattened, taps in (ci, kx, ky) order.
  const auto pack = [&](float* wpack) {
    for (int64_t o = 0; o < s.oc; ++o)
      for (int64_t ci = 0; ci < s.c; ++ci)
        for (int64_t ky = 0; ky < s.kh; ++ky)
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t k = flat ? (ci * s.kw + kx) * s.kh + ky : (ci * s.kh + ky) * s.kw + kx;
            wpack[k * s.oc + o] = w[o * taps + (ci * s.kh + ky) * s.kw + kx];
          }
  };
  const float* wpack = nullptr;
  if (cache != nullptr) {
    // The flattened layout differs from the row one: its own entry (parts = 2 names it).
    wpack = cache->get(w, kDirectPath, flat ? 2 : 1, t.vec_lanes, taps * s.oc, pack);
  } else {
    float* scratch = thread_scratch(ScratchSlot::kPackedWeights, taps * s.oc);
    pack(scratch);
    wpack = scratch;
  }
  const Padded p = padded_layout(s.h, s.w, s.ph, s.pw, s.kw, s.ow, t.vec_lanes);
  // Fewer images than threads: each image's output rows are cut into bands, each padded and convolved by one work
  // item (one fork/join per conv); every output value is still one tile's sum over the same taps in the same order.
  const int64_t bands = parts_per_item(s.n, s.oh, 2.0 * static_cast<double>(taps * s.oc * out_plane));
  parallel_for(s.n * bands, [&](int64_t item) {
    const int64_t n = item / bands;
    const PartRange rows = part_range(s.oh, 1, bands, item % bands);
    const int64_t in_rows = rows.end - rows.begin + s.kh - 1;
    float* dst = out + n * s.oc * out_plane;
    const int64_t oh = rows.end - rows.begin;
    if (flat) {
      const float* shifts = flat_shifts(inp + n * s.c * s.h * s.w, s, rows.begin - s.ph, in_rows);
      t.conv2d_direct_forward({s.c * s.kw, in_rows, s.ow, s.oc, s.kh, 1, 1, oh * s.ow, shifts, wpack, b,
                               dst + rows.begin * s.ow, false, fuse_relu && residual.data == nullptr, out_plane,
                               tap_offsets(s.c * s.kw, in_rows, s.ow, s.kh, 1)});
    } else if (reads_in_place(s, p, n, rows.begin + in_rows)) {
      const float* image = inp + (n * s.c * s.h + rows.begin) * s.w;
      t.conv2d_direct_forward({s.c, s.h, s.w, s.oc, s.kh, s.kw, oh, s.ow, image, wpack, b, dst + rows.begin * s.ow,
                               false, fuse_relu && residual.data == nullptr, out_plane,
                               tap_offsets(s.c, s.h, s.w, s.kh, s.kw)});
    } else {
      const float* image = pad_rows(ScratchSlot::kColumns, inp + n * s.c * s.h * s.w, s.c, s.h, s.w, rows.begin - s.ph,
                                    in_rows, s.pw, p.ld);
      t.conv2d_direct_forward({s.c, in_rows, p.ld, s.oc, s.kh, s.kw, oh, s.ow, image, wpack, b, dst + rows.begin * s.ow,
                               false, fuse_relu && residual.data == nullptr, out_plane,
                               tap_offsets(s.c, in_rows, p.ld, s.kh, s.kw)});
    }
    // The residual while the band is still in cache.
    if (residual.data != nullptr)
      conv2d_add_residual(dst, residual.at(n, 0), s.oc, s.oh, s.ow, rows.begin, rows.end, fuse_relu);
  });
}

bool conv2d_direct_dinput_applies(const Conv2dShape& s, const KernelTable& t) {
  if (t.conv2d_direct_forward == nullptr) return false;
  if (s.sh != 1 || s.sw != 1 || s.dh != 1 || s.dw != 1 || s.groups != 1) return false;
  // The transposed conv pads dout by kernel-1-pad, which must not be negative; its rows are
  // the input's, so they decide whether vectors along them are mostly used.
  if (s.ph > s.kh - 1 || s.pw > s.kw - 1) return false;
  return s.w * 4 >= vectors_for(s.w, t.vec_lanes) * t.vec_lanes * 3;
}

bool conv2d_direct_dweight_preferred(const Conv2dShape& s, const KernelTable& t) {
  if (!conv2d_direct_applies(s, t)) return false;
  // The channel kernel (vectors across output channels) wastes a quarter of its lanes with LeNet conv1's 6 channels
  // on SIMD128; the flattened dot products waste none (flat_dweight; 27% faster there). Not for small images, where a
  // flattened tile has few pixels to amortise its start and end (LeNet conv2's 100: 1.56x as long as the channel
  // kernel; 512 lies between the two sizes measured, 100 and 784).
  if (flat_dweight(s, t) && s.oh * s.ow >= 512 && s.oc % t.vec_lanes != 0) return true;
  // The channel kernel beats the row-direct one whenever it has two or more channel vectors.
  return !(conv2d_channel_applies(s, t) && s.oc > t.vec_lanes);
}

void conv2d_direct_dweight_op(const KernelTable& t, float* dw, float* db, const float* dout, const float* inp,
                              const Conv2dShape& s) {
  const int64_t taps = s.c * s.kh * s.kw, in_image = s.c * s.h * s.w, out_image = s.oc * s.oh * s.ow;
  const int64_t L = t.vec_lanes;
  const bool flat = flat_dweight(s, t);
  const Padded pin = padded_layout(s.h, s.w, s.ph, s.pw, s.kw, s.ow, L);
  const int64_t blocks = (s.n + kImagesPerPartial - 1) / kImagesPerPartial;
  const int64_t stride = taps * s.oc + s.oc;
  float* partials = thread_scratch(ScratchSlot::kPartials, blocks * stride);
  const int64_t ldd = vectors_for(s.ow, L) * L;
  parallel_for(blocks, [&](int64_t blk) {
    float* pdw = zeroed_partial(partials, blk, stride);
    for (int64_t n = blk * kImagesPerPartial; n < std::min(s.n, (blk + 1) * kImagesPerPartial); ++n) {
      const float* g = dout + n * out_image;
      if (dw != nullptr && flat) {
        // Tap (ci, ky, kx) reads shifted copy (ci, kx) from row ky on; one row of oh * ow pixels, whole vectors.
        const int64_t rows = s.h + 2 * s.ph, copy = rows * s.ow;
        const float* shifts = flat_shifts(inp + n * in_image, s, -s.ph, rows);
        int64_t* off = reinterpret_cast<int64_t*>(thread_scratch(ScratchSlot::kTables, 2 * taps));
        for (int64_t ci = 0, k = 0; ci < s.c; ++ci)
          for (int64_t ky = 0; ky < s.kh; ++ky)
            for (int64_t kx = 0; kx < s.kw; ++kx) off[k++] = (ci * s.kw + kx) * copy + ky * s.ow;
        const int64_t pixels = s.oh * s.ow;
        t.conv2d_direct_dweight({s.c, rows, s.ow, s.oc, s.kh, s.kw, 1, pixels, pixels, shifts, g, pdw, off});
      } else if (dw != nullptr) {
        const float* image = pad_planes(ScratchSlot::kColumns, inp + n * in_image, s.c, s.h, s.w, s.ph, s.pw, pin);
        DirectDweightArgs d{s.c, pin.hp, pin.ld, s.oc, s.kh, s.kw, s.oh, s.ow, ldd, image, whole_rows(g, s, ldd), pdw};
        d.dout_stride = dout_channel_stride(s, ldd);
        t.conv2d_direct_dweight(d);
      }
      if (db != nullptr) {
        const int64_t pixels = s.oh * s.ow;
        for (int64_t o = 0; o < s.oc; ++o) {
          const float* go = g + o * pixels;
          float acc = 0.0f;
          if (flat) {
            // Four interleaved sums (one SIMD128 add per 4 pixels; the serial sum took a tenth of the flattened
            // weight gradient's time), in the flattened path only, so the native builds keep their bits.
            float part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            int64_t i = 0;
            for (; i + 4 <= pixels; i += 4)
              for (int l = 0; l < 4; ++l) part[l] += go[i + l];
            for (; i < pixels; ++i) part[0] += go[i];
            acc = (part[0] + part[1]) + (part[2] + part[3]);
          } else {
            for (int64_t i = 0; i < pixels; ++i) acc += go[i];
          }
          pdw[taps * s.oc + o] += acc;
        }
      }
    }
  });
  if (dw != nullptr) add_partials(dw, partials, blocks, stride, taps * s.oc);
  if (db != nullptr) add_partials(db, partials + taps * s.oc, blocks, stride, s.oc);
}

void conv2d_direct_dinput_op(const KernelTable& t, float* dinp, const float* dout, const float* w, const Conv2dShape& s,
                             bool add) {
  const int64_t in_image = s.c * s.h * s.w, out_image = s.oc * s.oh * s.ow;
  // dinput is a stride-1 conv of dout padded by kernel-1-pad with the weights flipped and
  // transposed: [taps of (o, ky, kx), c] k-major.
  const int64_t qh = s.kh - 1 - s.ph, qw = s.kw - 1 - s.pw;
  const Padded pout = padded_layout(s.oh, s.ow, qh, qw, s.kw, s.w, t.vec_lanes);
  float* wflip = thread_scratch(ScratchSlot::kPackedWeights, s.oc * s.kh * s.kw * s.c);
  for (int64_t o = 0; o < s.oc; ++o)
    for (int64_t ci = 0; ci < s.c; ++ci)
      for (int64_t ky = 0; ky < s.kh; ++ky)
        for (int64_t kx = 0; kx < s.kw; ++kx)
          wflip[((o * s.kh + ky) * s.kw + kx) * s.c + ci] =
              w[((o * s.c + ci) * s.kh + (s.kh - 1 - ky)) * s.kw + (s.kw - 1 - kx)];
  parallel_for(s.n, [&](int64_t n) {
    const float* gp = pad_planes(ScratchSlot::kColumnGrad, dout + n * out_image, s.oc, s.oh, s.ow, qh, qw, pout);
    // Rows qh .. qh + oh - 1 of the padded gradient are dout's; the taps on the zero rows around them are skipped.
    t.conv2d_direct_forward({s.oc, pout.hp, pout.ld, s.c, s.kh, s.kw, s.h, s.w, gp, wflip, nullptr, dinp + n * in_image,
                             add, false, 0, tap_offsets(s.oc, pout.hp, pout.ld, s.kh, s.kw), qh, qh + s.oh});
  });
}

}  // namespace simdnet
