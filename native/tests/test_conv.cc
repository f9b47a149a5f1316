// SPDX-License-Identifier: MIT
// The conv2d ops (which choose per shape between the row-direct, channel-direct and im2col + GEMM
// kernels of the current ISA, and spread images over threads) against conv2d_forward_ref /
// conv2d_backward_ref on awkward shapes: strides, padding, dilation, groups, widths and channel
// counts around the vector width. Also: every path is exercised, and 1 and 3 threads agree bit for bit.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "dispatch.h"
#include "ops/conv2d_direct_op.h"
#include "ops/conv2d_pack_cache.h"
#include "ops/ops.h"

namespace simdnet::test {
namespace {

struct Case {
  const char* name;
  Conv2dShape s;  // oh, ow filled in by shape()
};

Conv2dShape shape(int64_t n, int64_t c, int64_t h, int64_t w, int64_t oc, int64_t kh, int64_t kw, int64_t sh = 1,
                  int64_t sw = 1, int64_t ph = 0, int64_t pw = 0, int64_t dh = 1, int64_t dw = 1, int64_t groups = 1) {
  Conv2dShape s{n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, 0, 0};
  s.oh = conv_output_size(h, kh, sh, ph, dh);
  s.ow = conv_output_size(w, kw, sw, pw, dw);
  return s;
}

std::vector<Case> cases(int64_t lanes) {
  std::vector<Case> v{
      {"1x1 kernel", shape(2, 3, 5, 5, 4, 1, 1)},
      {"1x1 stride 2 odd input", shape(1, 5, 7, 9, 3, 1, 1, 2, 2)},
      {"odd 7x9 input", shape(1, 3, 7, 9, 5, 3, 3)},
      {"stride 2 padding 1", shape(2, 4, 9, 8, 6, 3, 3, 2, 2, 1, 1)},
      {"padding 2x1 kernel 5x3", shape(1, 2, 6, 7, 3, 5, 3, 1, 1, 2, 1)},
      {"padding larger than the kernel", shape(1, 2, 3, 4, 2, 2, 2, 1, 1, 3, 3)},
      {"kernel == input", shape(3, 2, 5, 5, 3, 5, 5)},
      {"stride larger than the kernel", shape(1, 2, 10, 11, 3, 2, 2, 3, 4)},
      {"dilation 2 padding 2 stride 2", shape(2, 3, 9, 8, 4, 3, 3, 2, 2, 2, 2, 2, 2)},
      {"dilation 3x1 kernel 2x4", shape(1, 2, 8, 6, 2, 2, 4, 1, 1, 0, 0, 3, 1)},
      {"groups 2", shape(2, 4, 6, 7, 6, 3, 3, 1, 1, 0, 0, 1, 1, 2)},
      {"depthwise 7", shape(2, 7, 6, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1, 7)},
      {"width 1", shape(1, 2, 8, 1, 3, 3, 1)},
      {"height 1 width 1", shape(1, 17, 1, 1, 9, 1, 1)},
      {"LeNet conv1", shape(2, 3, 32, 32, 6, 5, 5)},
      {"LeNet conv2", shape(2, 6, 14, 14, 16, 5, 5)},
      {"direct: 3x3 padding 1, 16 wide", shape(2, 2, 10, 16, 7, 3, 3, 1, 1, 1, 1)},
      {"direct: 70 wide", shape(1, 3, 5, 72, 13, 3, 3)},
      {"direct: 7x7 padding 3, 33 wide", shape(2, 1, 9, 33, 6, 7, 7, 1, 1, 3, 3)},
      {"direct: padding above kernel-1", shape(5, 2, 6, 20, 3, 2, 2, 1, 1, 2, 2)},
      {"direct: 9 images", shape(9, 2, 4, 24, 4, 3, 5, 1, 1, 1, 2)},
      {"channels: 29 out, stride 2, padding 1", shape(5, 3, 9, 8, 29, 3, 3, 2, 2, 1, 1)},
      {"channels: 40 out, dilation 2", shape(1, 2, 9, 7, 40, 3, 3, 1, 1, 2, 1, 2, 2)},
  };
  // Output widths and channel counts at tile-1, tile and tile+1 of this ISA's vectors.
  for (int64_t d : {-1, 0, 1}) {
    const int64_t x = std::max<int64_t>(1, 2 * lanes + d);
    v.push_back({"row tile", shape(2, 2, 5, x + 2, 3, 3, 3)});
    v.push_back({"channel tile", shape(2, 3, 6, 5, x, 3, 3)});
    v.push_back({"channel tile stride 2", shape(1, 2, 7, 7, x, 3, 3, 2, 2, 1, 1)});
  }
  // The register-blocked channel tiles (two vectors x up to 12 pixels of a row): rows split into chunks,
  // odd channel counts, stride 2 on odd sizes, one-pixel images.
  v.push_back({"blocked: 29 wide rows", shape(2, 5, 4, 29, 2 * lanes + 3, 3, 3, 1, 1, 1, 1)});
  v.push_back({"blocked: stride 2 odd 9x13", shape(3, 7, 9, 13, 3 * lanes - 1, 3, 3, 2, 2, 1, 1)});
  v.push_back({"blocked: 1x1 image", shape(2, 3, 1, 1, 2 * lanes, 3, 3, 1, 1, 1, 1)});
  v.push_back({"blocked: 1x1 image stride 2", shape(1, 4, 1, 1, 4 * lanes + 1, 3, 3, 2, 2, 1, 1)});
  v.push_back({"blocked: ResNet 16 to 32 stride 2", shape(2, 16, 10, 10, 32, 3, 3, 2, 2, 1, 1)});
  v.push_back({"blocked: stride 2x1", shape(1, 3, 8, 9, 2 * lanes, 3, 3, 2, 1, 1, 1)});
  // Input gradients through the blocked tiles (input channels of two or more vectors).
  v.push_back({"blocked dinput: 2L+1 channels", shape(2, 2 * lanes + 1, 5, 7, 6, 3, 3, 1, 1, 1, 1)});
  v.push_back({"blocked dinput: 1x1 image", shape(3, 3 * lanes, 1, 1, 2 * lanes, 3, 3, 1, 1, 1, 1)});
  v.push_back({"blocked dinput: no padding", shape(1, 2 * lanes, 6, 5, lanes + 2, 3, 3)});
  // Strided input gradients by stride phases: odd sizes, phases no tap reaches, 1x1 (ResNet's B shortcut), stride 3,
  // 1x1 images, stride 2 on rows only.
  v.push_back({"phase dinput: stride 2 odd 9x11", shape(2, 2 * lanes + 3, 9, 11, 5, 3, 3, 2, 2, 1, 1)});
  v.push_back({"phase dinput: 2x2 stride 3", shape(1, lanes, 7, 8, 3, 2, 2, 3, 3)});
  v.push_back({"phase dinput: 1x1 stride 2", shape(2, lanes, 8, 7, 2 * lanes, 1, 1, 2, 2)});
  v.push_back({"phase dinput: 3x3 stride 3 pad 2", shape(1, 2 * lanes, 10, 6, 4, 3, 3, 3, 3, 2, 2)});
  v.push_back({"phase dinput: 1x1 image", shape(3, 2 * lanes, 1, 1, 3, 3, 3, 2, 2, 1, 1)});
  v.push_back({"phase dinput: stride 2x1", shape(1, 2 * lanes, 7, 5, 6, 3, 3, 2, 1, 1, 1)});
  // Fewer images than threads: the forward cuts each image's output rows into bands (1 vs 3 threads below), on the
  // row-direct and the channel tiles, stride 2, odd row counts.
  v.push_back({"bands: 16 ch 32 px, batch 1", shape(1, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1)});
  // The row-direct weight gradient on 32 x 32 px: dout copied with channels 4 KB + 64 bytes apart, two blocks of
  // images, a short last tile of output channels.
  v.push_back({"row-direct dweight: 32 px, 20 out, batch 5", shape(5, 16, 32, 32, 20, 3, 3, 1, 1, 1, 1)});
  v.push_back({"bands: 2L ch 13 px, batch 2", shape(2, 2 * lanes, 13, 13, 2 * lanes, 3, 3, 1, 1, 1, 1)});
  v.push_back({"bands: stride 2 odd 15x15, batch 1", shape(1, 24, 15, 15, 2 * lanes + 1, 3, 3, 2, 2, 1, 1)});
  // Winograd F(2x2, 3x3) (3x3 padding 1, 8/16/32 px rows, 16+ channels): a partial last channel vector and an odd
  // vector count, bands of one and two tile rows (batch 1 on 3 threads), blocks of one, two and four tile rows.
  v.push_back({"winograd: 8 px, 47 out, batch 1", shape(1, 33, 8, 8, 47, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd: 16 px, batch 3", shape(3, 40, 16, 16, 32, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd: 32 px, batch 1", shape(1, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd: 8 px, 128 ch, batch 2", shape(2, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1)});
  // 16 channels (ResNet-20's first stage; on AVX-512 32-px rows are read unpadded): batch 3, and batch 1 in bands.
  v.push_back({"winograd: 32 px, 16 ch, batch 3", shape(3, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd: 32 px, 16 ch, batch 1", shape(1, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd: 16 px, 16 ch, batch 2", shape(2, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1)});
  // The input gradient by the same kernel (its conv has the c input channels as outputs): without the forward on
  // AVX-512 (33 out), a partial last vector of input channels (47), bands at batch 1, 32-px rows at batch 2.
  v.push_back({"winograd dinput: 16 px, 33 out", shape(2, 64, 16, 16, 33, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd dinput: 8 px, 47 in, batch 1", shape(1, 47, 8, 8, 40, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd dinput: 32 px, batch 2", shape(2, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1)});
  // The weight gradient by Winograd (the forward's shapes): several blocks of images, the last one short (blocks of 16
  // 8-px images at batch 66, of 5 at batch 18 to keep 4 blocks, of 4 images of 6 x 16 or 20 x 32 px), chunks of whole
  // images with tile counts that do not fill the vectors (6 rows), bands of tile rows with a short last band (20 rows
  // of 32 px), an input channel count that is no multiple of the register tiles.
  v.push_back({"winograd dweight: 8 px, batch 66", shape(66, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd dweight: 8 px, batch 18", shape(18, 32, 8, 8, 40, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd dweight: 6 x 16 px, batch 13", shape(13, 32, 6, 16, 32, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd dweight: 20 x 32 px, 47 in, batch 5", shape(5, 47, 20, 32, 32, 3, 3, 1, 1, 1, 1)});
  // F(4x4) on 8-px planes in stacks of images (the forward on AVX-512 from 8 images; the weight gradient's chunks of
  // up to 16 on AVX-512 and AVX2): stacks of 4 and 3 (9 images on 3 threads), short last ones, a partial last channel
  // vector, 47 input channels, batch 127.
  v.push_back({"winograd4 stacks: 8 px, 32 -> 40, batch 9", shape(9, 32, 8, 8, 40, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd4 stacks: 8 px, 64 ch, batch 13", shape(13, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd4 stacks: 8 px, 47 -> 33, batch 21", shape(21, 47, 8, 8, 33, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd4 stacks: 8 px, 16 ch, batch 3", shape(3, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1)});
  v.push_back({"winograd4 stacks: 8 px, 16 ch, batch 127", shape(127, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1)});
  return v;
}

std::string describe(const Case& k) {
  const Conv2dShape& s = k.s;
  return std::string("conv2d ") + k.name + " [" + std::to_string(s.n) + "," + std::to_string(s.c) + "," +
         std::to_string(s.h) + "," + std::to_string(s.w) + "] oc=" + std::to_string(s.oc);
}

// The residual epilogue (a fused add, then the ReLU): the same values as the conv, then the add and the ReLU as
// passes of their own (bit for bit, on 1 and 3 threads), for an identity residual of the output's shape and a strided
// one that covers only some channels (ResNet's option A: every other pixel of a larger value, zero channels around).
void check_residual(Tally& t, Rng& rng, const Case& k) {
  const Conv2dShape& s = k.s;
  const int64_t out_image = s.oc * s.oh * s.ow, out_n = s.n * out_image;
  const std::vector<float> x = rng.floats(s.n * s.c * s.h * s.w), w = rng.floats(s.oc * (s.c / s.groups) * s.kh * s.kw);
  const std::vector<float> b = rng.floats(s.oc);
  std::vector<float> plain(out_n);
  conv2d_forward_op(plain.data(), x.data(), w.data(), b.data(), s, false);
  // Identity: [oc, oh, ow]. Strided: [rc, 2 oh + 1, 2 ow + 1] read from channel 1, row 1, column 0 every 2, placed at
  // channels [before, before + count).
  const int64_t rc = std::max<int64_t>(1, s.oc / 2 + 1), rh = 2 * s.oh + 1, rw = 2 * s.ow + 1;
  const int64_t count = std::min(rc - 1, s.oc - s.oc / 4), before = std::min(s.oc / 4, s.oc - count);
  struct Geometry {
    const char* name;
    int64_t image, c0, c1, channel, row, col, offset;  // offset: of the first value read
  };
  const Geometry shapes[] = {
      {"identity", out_image, 0, s.oc, s.oh * s.ow, s.ow, 1, 0},
      {"strided", rc * rh * rw, before, before + std::max<int64_t>(count, 0), rh * rw, 2 * rw, 2, rh * rw + rw}};
  for (const Geometry& g : shapes) {
    if (g.c1 <= g.c0) continue;
    const std::vector<float> src = rng.floats(s.n * g.image);
    ConvResidual r;
    r.data = src.data() + g.offset;
    r.c0 = g.c0, r.c1 = g.c1;
    r.image_stride = g.image, r.channel_stride = g.channel, r.row_stride = g.row, r.col_step = g.col;
    std::vector<float> want(out_n), got(out_n), three(out_n);
    for (const bool relu : {false, true}) {
      for (int64_t n = 0; n < s.n; ++n)
        for (int64_t o = 0; o < s.oc; ++o)
          for (int64_t y = 0; y < s.oh; ++y)
            for (int64_t xx = 0; xx < s.ow; ++xx) {
              const int64_t i = ((n * s.oc + o) * s.oh + y) * s.ow + xx;
              const float add = o >= g.c0 && o < g.c1
                                    ? src[n * g.image + g.offset + (o - g.c0) * g.channel + y * g.row + xx * g.col]
                                    : 0.0f;
              const float v = plain[i] + add;
              want[i] = relu && v < 0.0f ? 0.0f : v;
            }
      set_num_threads(1);
      conv2d_forward_op(got.data(), x.data(), w.data(), b.data(), s, relu, nullptr, r);
      set_num_threads(3);
      conv2d_forward_op(three.data(), x.data(), w.data(), b.data(), s, relu, nullptr, r);
      const std::string at = describe(k) + " forward + " + g.name + " residual" + (relu ? " + relu" : "");
      t.same(at + " (as add and relu after the conv)", got, want);
      t.same(at + ", 1 vs 3 threads", three, got);
    }
  }
}

void check_case(Tally& t, Rng& rng, const Case& k) {
  const Conv2dShape& s = k.s;
  const int64_t in_n = s.n * s.c * s.h * s.w, w_n = s.oc * (s.c / s.groups) * s.kh * s.kw;
  const int64_t out_n = s.n * s.oc * s.oh * s.ow;
  const int64_t taps = (s.c / s.groups) * s.kh * s.kw;
  const double atol = 2e-6 * double(taps) + 1e-6;
  const std::string at = describe(k);
  const std::vector<float> x = rng.floats(in_n), w = rng.floats(w_n), b = rng.floats(s.oc);

  std::vector<float> want(out_n), got(out_n);
  conv2d_forward_ref(want.data(), x.data(), w.data(), b.data(), s);
  conv2d_forward_op(got.data(), x.data(), w.data(), b.data(), s, false);
  t.close(at + " forward", got, want, atol, 1e-5);
  for (float& y : want) y = std::max(y, 0.0f);
  conv2d_forward_op(got.data(), x.data(), w.data(), b.data(), s, true);
  t.close(at + " forward + relu", got, want, atol, 1e-5);
  conv2d_forward_ref(want.data(), x.data(), w.data(), nullptr, s);
  conv2d_forward_op(got.data(), x.data(), w.data(), nullptr, s, false);
  t.close(at + " forward without bias", got, want, atol, 1e-5);

  // Weights packed once into a cache (a program snapshot's), on 1 and 3 threads (batch 1 cuts rows into bands),
  // each run twice (the second from the cache): bit-identical to packing per call.
  ConvPackCache cache;
  std::vector<float> cached(out_n), one_thread;
  for (const int threads : {1, 3, 1, 3}) {
    set_num_threads(threads);
    conv2d_forward_op(got.data(), x.data(), w.data(), b.data(), s, true);
    conv2d_forward_op(cached.data(), x.data(), w.data(), b.data(), s, true, &cache);
    t.same(at + " forward with packed-weight cache, " + std::to_string(threads) + " threads", cached, got);
    if (threads == 1) one_thread = got;
    t.same(at + " forward " + std::to_string(threads) + " vs 1 thread", got, one_thread);
  }

  check_residual(t, rng, k);

  // Backward accumulates into pre-filled buffers; the references get the same starting values.
  const std::vector<float> dout = rng.floats(out_n);
  std::vector<float> dx = rng.floats(in_n), dw = rng.floats(w_n), db = rng.floats(s.oc);
  std::vector<float> dx_ref = dx, dw_ref = dw, db_ref = db;
  conv2d_backward_ref(dx_ref.data(), dw_ref.data(), db_ref.data(), dout.data(), x.data(), w.data(), s);
  std::vector<float> dx1 = dx, dw1 = dw, db1 = db;
  set_num_threads(1);
  conv2d_backward_op(dx1.data(), dw1.data(), db1.data(), dout.data(), x.data(), w.data(), s);
  set_num_threads(3);
  conv2d_backward_op(dx.data(), dw.data(), db.data(), dout.data(), x.data(), w.data(), s);
  const double grad_atol = 2e-6 * double(s.n * s.oh * s.ow + taps) + 1e-6;
  t.close(at + " dinput", dx, dx_ref, grad_atol, 1e-5);
  t.close(at + " dweight", dw, dw_ref, grad_atol, 1e-5);
  t.close(at + " dbias", db, db_ref, grad_atol, 1e-5);
  t.same(at + " dweight 1 vs 3 threads", dw, dw1);
  t.same(at + " dinput 1 vs 3 threads", dx, dx1);

  // Overwrite mode: dinp = the gradient, whatever it held (NaN here), bit-identical to accumulating into zeros.
  std::vector<float> dx_zero(in_n, 0.0f), dx_over(in_n, std::numeric_limits<float>::quiet_NaN());
  conv2d_backward_op(dx_zero.data(), nullptr, nullptr, dout.data(), x.data(), w.data(), s);
  conv2d_backward_op(dx_over.data(), nullptr, nullptr, dout.data(), x.data(), w.data(), s, false);
  t.same(at + " dinput overwritten", dx_over, dx_zero);

  // Only the weight gradient (what the first layer of a network asks for).
  std::vector<float> dw_only(w_n, 0.0f), dw_only_ref(w_n, 0.0f);
  conv2d_backward_op(nullptr, dw_only.data(), nullptr, dout.data(), x.data(), w.data(), s);
  conv2d_backward_ref(nullptr, dw_only_ref.data(), nullptr, dout.data(), x.data(), w.data(), s);
  t.close(at + " dweight only", dw_only, dw_only_ref, grad_atol, 1e-5);
}

// The direct kernels' loop over a table of tap offsets (DirectConvArgs::tap_offset, which only the wasm ops pass)
// against their nested loops on this ISA: the same sums in the same order, so the same bits, also when the taps on
// zero rows are skipped (row_lo, row_hi). The ops' checks above cover the tables on wasm (test/native on it).
void check_direct_tap_table(Tally& t, Rng& rng) {
  const KernelTable& k = kernels();
  if (k.conv2d_direct_forward == nullptr || k.conv2d_direct_dweight == nullptr) return;
  const int64_t c = 3, oc = 5, kh = 3, kw = 4, hp = 9, wp = 21, oh = hp - kh + 1, ow = 15, taps = c * kh * kw;
  std::vector<float> x = rng.floats(c * hp * wp + kDirectSlack);
  // Rows 0, 1 and hp - 1 of every channel are zero padding.
  for (int64_t ci = 0; ci < c; ++ci)
    for (const int64_t y : {int64_t{0}, int64_t{1}, hp - 1}) std::fill_n(x.begin() + (ci * hp + y) * wp, wp, 0.0f);
  std::fill(x.end() - kDirectSlack, x.end(), 0.0f);
  const std::vector<float> wpack = rng.floats(taps * oc), bias = rng.floats(oc);
  std::vector<int64_t> off;
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t ky = 0; ky < kh; ++ky)
      for (int64_t kx = 0; kx < kw; ++kx) off.push_back((ci * hp + ky) * wp + kx);
  std::vector<float> nested(oc * oh * ow), table(oc * oh * ow), skipped(oc * oh * ow);
  DirectConvArgs a{c, hp, wp, oc, kh, kw, oh, ow, x.data(), wpack.data(), bias.data(), nested.data(), false, false};
  k.conv2d_direct_forward(a);
  a.out = table.data();
  a.tap_offset = off.data();
  k.conv2d_direct_forward(a);
  t.same("direct forward: tap table vs nested loops", table, nested);
  a.out = skipped.data();
  a.row_lo = 2;
  a.row_hi = hp - 1;
  k.conv2d_direct_forward(a);
  t.same("direct forward: zero rows skipped vs nested loops", skipped, nested);

  const int64_t ldd = (ow + k.vec_lanes - 1) / k.vec_lanes * k.vec_lanes;
  std::vector<float> g(oc * oh * ldd, 0.0f);
  for (int64_t r = 0; r < oc * oh; ++r) {
    const std::vector<float> row = rng.floats(ow);
    std::copy(row.begin(), row.end(), g.begin() + r * ldd);
  }
  std::vector<float> dw_nested(oc * taps, 0.0f), dw_table(oc * taps, 0.0f);
  DirectDweightArgs d{c, hp, wp, oc, kh, kw, oh, ow, ldd, x.data(), g.data(), dw_nested.data()};
  k.conv2d_direct_dweight(d);
  d.dw = dw_table.data();
  d.tap_offset = off.data();
  k.conv2d_direct_dweight(d);
  t.same("direct dweight: tap table vs nested loops", dw_table, dw_nested);
}

// The AVX-512 forward on blocks of 4 rows of 28 pixels (7 whole vectors; conv2d_direct_blocks_avx512.inc) for its two
// input widths (32: read in place, 36: the padded copy) against the row tiles (the tap-table loop, which never takes
// the blocks; the same sums as the nested loops above): same bits for every channel tile (1-3), 1 to 9 rows (whole
// blocks and rows after them), with and without bias, ReLU, and adding into the output. Other ISAs: the row tiles both
// times.
void check_direct_blocks(Tally& t, Rng& rng) {
  const KernelTable& k = kernels();
  if (k.conv2d_direct_forward == nullptr) return;
  const int64_t c = 2, kh = 5, kw = 5, ow = 28, taps = c * kh * kw;
  for (const int64_t wp : {int64_t{32}, int64_t{36}})
    for (int64_t oc = 1; oc <= 8; ++oc)
      for (int64_t oh = 1; oh <= 9; ++oh) {
        const int64_t hp = oh + kh - 1;
        const std::vector<float> x = rng.floats(c * hp * wp + kDirectSlack), wpack = rng.floats(taps * oc);
        const std::vector<float> bias = rng.floats(oc), start = rng.floats(oc * oh * ow);
        std::vector<int64_t> off;
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) off.push_back((ci * hp + ky) * wp + kx);
        for (int mode = 0; mode < 4; ++mode) {  // plain, ReLU, no bias, accumulate
          std::vector<float> blocks = start, rows = start;
          DirectConvArgs a{c,
                           hp,
                           wp,
                           oc,
                           kh,
                           kw,
                           oh,
                           ow,
                           x.data(),
                           wpack.data(),
                           mode == 2 ? nullptr : bias.data(),
                           blocks.data(),
                           mode == 3,
                           mode == 1};
          k.conv2d_direct_forward(a);
          a.out = rows.data();
          a.tap_offset = off.data();
          k.conv2d_direct_forward(a);
          t.same("direct forward blocks vs rows: wp " + std::to_string(wp) + ", oc " + std::to_string(oc) + ", oh " +
                     std::to_string(oh) + ", mode " + std::to_string(mode),
                 blocks, rows);
        }
      }
}

}  // namespace

void test_conv(Tally& t, int64_t lanes) {
  Rng rng(3);
  const int threads = default_num_threads();
  int winograd = 0, blocked = 0, direct = 0, channel = 0, gemm = 0, blocked_dinput = 0, phase_dinput = 0;
  int winograd_dinput = 0, winograd_dweight = 0;
  for (const Case& k : cases(lanes)) {
    if (k.s.oh < 1 || k.s.ow < 1) {
      t.truth(describe(k) + ": shape has an output", false);
      continue;
    }
    const bool strided = k.s.sh != 1 || k.s.sw != 1;
    if (conv2d_winograd_dweight_applies(k.s, kernels())) ++winograd_dweight;
    // The input gradient's order of paths.
    if (conv2d_winograd_dinput_applies(k.s, kernels()))
      ++winograd_dinput;
    else if (conv2d_channel_dinput_applies(k.s, kernels()))
      ++(strided ? phase_dinput : blocked_dinput);
    // The forward's order of paths (conv2d_op.cc).
    if (conv2d_winograd_applies(k.s, kernels()))
      ++winograd;
    else if (conv2d_channel_blocked_applies(k.s, kernels()))
      ++blocked;
    else if (conv2d_direct_applies(k.s, kernels()))
      ++direct;
    else if (conv2d_channel_applies(k.s, kernels()))
      ++channel;
    else
      ++gemm;
    check_case(t, rng, k);
  }
  set_num_threads(threads);
  check_direct_tap_table(t, rng);
  check_direct_blocks(t, rng);
  if (kernels().use_gemm) {
    t.truth("conv2d cases reach the blocked channel tiles", blocked > 0);
    t.truth("conv2d cases reach the blocked channel tiles for dinput", blocked_dinput > 0);
    t.truth("conv2d cases reach the stride-phase dinput", phase_dinput > 0);
    t.truth("conv2d cases reach the row-direct kernels", direct > 0);
    t.truth("conv2d cases reach the channel-direct kernels", channel > 0);
    t.truth("conv2d cases reach im2col + GEMM", gemm > 0);
  }
  if (kernels().conv2d_winograd_forward != nullptr) {
    t.truth("conv2d cases reach the Winograd forward", winograd > 0);
    t.truth("conv2d cases reach the Winograd dinput", winograd_dinput > 0);
    t.truth("conv2d cases reach the Winograd dweight", winograd_dweight > 0);
  }
}

}  // namespace simdnet::test
