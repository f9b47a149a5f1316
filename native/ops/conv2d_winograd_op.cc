// SPDX-License-Identifier: MIT
// conv2d forward of 3x3 stride-1 padding-1 convs with many channels by Winograd F(2x2, 3x3)
// (kernels/conv2d/conv2d_winograd_impl.inc): 16 multiply-adds per 2 x 2 outputs and channel pair instead of 36.
// The weights are transformed once (U = G g G^T, kept with a snapshot's packed weights); each image, or band of
// tile rows at batch 1, is transformed on its own (from a padded copy unless its rows are whole vectors of tiles), so
// results do not depend on the thread count.
#include <algorithm>
#include <cstring>

#include "conv2d_direct_op.h"
#include "conv2d_pack_cache.h"
#include "parallel.h"
#include "partials.h"
#include "scratch.h"

namespace simdnet {
namespace {

// From 16 channels (ResNet-20's first stage): since the GEMM tiles keep their sums in registers, 16 -> 16 channels at
// 32 px ran 1.25-1.4x faster than the row-direct kernels in each direction (docs/conv-kernels.md, session 17).
constexpr int64_t kMinChannels = 16;
// Images per partial weight gradient, as the channel path's, or more for small planes (kMinBlockTiles): fixed by the
// shape, so sums do not depend on the thread count.
constexpr int64_t kImagesPerPartial = 4, kMinBlockTiles = 256, kMinBlocks = 4;

// U [16, c, ocp] = G g G^T of each 3x3 kernel g, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], for the conv of shape
// s. With `flipped` that conv is the input gradient of w's (transposed_shape): its output channel o is w's input
// channel, its input channel ci w's output channel, and g is w's kernel turned by 180 degrees (its 9 taps reversed).
void transform_weights(float* u, const float* w, const Conv2dShape& s, int64_t ocp, bool flipped) {
  std::memset(u, 0, sizeof(float) * static_cast<size_t>(16 * s.c * ocp));
  for (int64_t o = 0; o < s.oc; ++o)
    for (int64_t ci = 0; ci < s.c; ++ci) {
      float g[9];
      const float* src = w + (flipped ? ci * s.oc + o : o * s.c + ci) * 9;
      for (int k = 0; k < 9; ++k) g[k] = src[flipped ? 8 - k : k];
      float gg[4][3];  // G g
      for (int k = 0; k < 3; ++k) {
        gg[0][k] = g[k];
        gg[1][k] = 0.5f * (g[k] + g[3 + k] + g[6 + k]);
        gg[2][k] = 0.5f * (g[k] - g[3 + k] + g[6 + k]);
        gg[3][k] = g[6 + k];
      }
      for (int i = 0; i < 4; ++i) {
        const float row[4] = {gg[i][0], 0.5f * (gg[i][0] + gg[i][1] + gg[i][2]),
                              0.5f * (gg[i][0] - gg[i][1] + gg[i][2]), gg[i][2]};
        for (int j = 0; j < 4; ++j) u[((4 * i + j) * s.c + ci) * ocp + o] = row[j];
      }
    }
}

// Whether the input transform reads the images in place (rows of one or more whole vectors of tiles, or two or four
// tile rows per vector) rather than a padded copy: on AVX-512 only, where it saved 5-15% of the 16-channel convs at 32
// px and the 32-channel ones at 16 px; on AVX2 (two instructions per shuffle of two sources) it saved nothing
// measurable.
bool reads_unpadded(int64_t tw, int64_t lanes) {
  return lanes == 16 && (tw % lanes == 0 || 2 * tw == lanes || 4 * tw == lanes);
}

// out (+)= the conv of inp [n, c, oh, ow] with the transformed weights u: per image, or band of tile rows when there
// are fewer images than threads (as the direct paths cut output rows); then the residual while the band is in cache.
void winograd_run(const KernelTable& t, float* out, const float* inp, const float* u, const float* b,
                  const Conv2dShape& s, bool fuse_relu, bool add, const ConvResidual& residual) {
  const int64_t lanes = t.vec_lanes, ocp = (s.oc + lanes - 1) / lanes * lanes;
  const int64_t th = s.oh / 2, tw = s.ow / 2, wp = (2 * tw + lanes - 1) / lanes * lanes + lanes;
  const int64_t rb = winograd_block_rows(th, tw), in_image = s.c * s.h * s.w, plane = s.oh * s.ow;
  const int64_t bands = parts_per_item(s.n, th, 2.0 * 9.0 * static_cast<double>(s.c * s.oc * plane));
  const bool unpadded = reads_unpadded(tw, lanes);
  parallel_for(s.n * bands, [&](int64_t item) {
    const int64_t n = item / bands;
    const PartRange tiles = part_range(th, 1, bands, item % bands);
    const int64_t band_th = tiles.end - tiles.begin;
    if (band_th == 0) return;
    const int64_t row0 = 2 * tiles.begin - 1;
    const float* image =
        unpadded ? inp + n * in_image
                 : pad_rows(ScratchSlot::kColumns, inp + n * in_image, s.c, s.h, s.w, row0, 2 * band_th + 2, 1, wp);
    float* dst = out + n * s.oc * plane;
    float* v = thread_scratch(ScratchSlot::kColumnGrad, 16 * s.c * winograd_channel_floats(rb, tw, lanes));
    float* m = thread_scratch(ScratchSlot::kGradBlock, rb * tw * 16 * ocp);
    t.conv2d_winograd_forward({s.c, s.oc, ocp, band_th, tw, image, wp, u, b, dst + 2 * tiles.begin * s.ow, plane,
                               fuse_relu && residual.data == nullptr, add, v, m, unpadded ? s.h : 0, row0});
    if (residual.data != nullptr)
      conv2d_add_residual(dst, residual.at(n, 0), s.oc, s.oh, s.ow, 2 * tiles.begin, 2 * tiles.end, fuse_relu);
  });
}

}  // namespace

bool conv2d_winograd_applies(const Conv2dShape& s, const KernelTable& t) {
  if (t.conv2d_winograd_forward == nullptr || s.groups != 1 || s.kh != 3 || s.kw != 3) return false;
  if (s.sh != 1 || s.sw != 1 || s.dh != 1 || s.dw != 1 || s.ph != 1 || s.pw != 1) return false;
  const int64_t tw = s.ow / 2, ocp = (s.oc + t.vec_lanes - 1) / t.vec_lanes * t.vec_lanes;
  if (s.oh % 2 != 0 || s.ow % 2 != 0 || (tw != 4 && tw != 8 && tw != 16)) return false;
  return s.c >= kMinChannels && s.oc >= kMinChannels && s.oc * 4 >= ocp * 3;
}

void conv2d_winograd_forward_op(const KernelTable& t, float* out, const float* inp, const float* w, const float* b,
                                const Conv2dShape& s, bool fuse_relu, ConvPackCache* cache,
                                const ConvResidual& residual) {
  const int64_t lanes = t.vec_lanes, ocp = (s.oc + lanes - 1) / lanes * lanes, size = 16 * s.c * ocp;
  const auto pack = [&](float* u) { transform_weights(u, w, s, ocp, false); };
  const float* u = nullptr;
  if (cache != nullptr) {
    u = cache->get(w, kWinogradPath, 1, lanes, size, pack);
  } else {
    float* scratch = thread_scratch(ScratchSlot::kPackedWeights, size);
    pack(scratch);
    u = scratch;
  }
  winograd_run(t, out, inp, u, b, s, fuse_relu, false, residual);
}

// A 3x3 stride-1 padding-1 conv's transposed conv is one too (padding 3 - 1 - 1), on the same plane size.
bool conv2d_winograd_dinput_applies(const Conv2dShape& s, const KernelTable& t) {
  return conv2d_winograd_applies(transposed_shape(s), t);
}

void conv2d_winograd_dinput_op(const KernelTable& t, float* dinp, const float* dout, const float* w,
                               const Conv2dShape& s, bool add) {
  const Conv2dShape r = transposed_shape(s);
  const int64_t ocp = (r.oc + t.vec_lanes - 1) / t.vec_lanes * t.vec_lanes;
  // The weights change every training step: transformed per call (a small cost next to the conv).
  float* u = thread_scratch(ScratchSlot::kPackedWeights, 16 * r.c * ocp);
  transform_weights(u, w, r, ocp, true);
  winograd_run(t, dinp, dout, u, nullptr, r, false, add, ConvResidual{});
}

bool conv2d_winograd_dweight_applies(const Conv2dShape& s, const KernelTable& t) {
  return t.conv2d_winograd_dweight != nullptr && conv2d_winograd_applies(s, t);
}

// Per block of images (a fixed count for the shape), its tiles in chunks (whole images while an image has at most
// kWinogradChunkTiles tiles, up to kWinogradMaxPieces of them, else bands of tile rows) summed into the block's m, then
// its partial dW = G^T m G, added into dw in block order (partials.h); db as the channel path.
void conv2d_winograd_dweight_op(const KernelTable& t, float* dw, float* db, const float* dout, const float* inp,
                                const Conv2dShape& s) {
  const int64_t lanes = t.vec_lanes, ocp = (s.oc + lanes - 1) / lanes * lanes;
  const int64_t th = s.oh / 2, tw = s.ow / 2, wp = (2 * tw + lanes - 1) / lanes * lanes + lanes;
  const int64_t rows = std::min(th, kWinogradChunkTiles / tw), bands = (th + rows - 1) / rows;
  const int64_t image_tiles = (th * tw + lanes - 1) / lanes * lanes;  // as the input transform writes them
  const int64_t per_chunk =
      bands > 1 ? 1 : std::clamp<int64_t>(kWinogradChunkTiles / image_tiles, 1, kWinogradMaxPieces);
  // At least kMinBlockTiles tiles per block: the partials' sum costs as much per block as a block of 4 8-px images'
  // GEMMs (64 channels). But no fewer than kMinBlocks blocks while they keep 4 images or more, so that small batches
  // still spread over a few threads (16 8-px images: 4 blocks, not one; 8 blocks of 8 at batch 64 cost the 128-channel
  // conv 15% against 4 of 16).
  const int64_t block =
      std::max(kImagesPerPartial, std::min(kMinBlockTiles / (th * tw), (s.n + kMinBlocks - 1) / kMinBlocks));
  const int64_t taps = 9 * s.c, stride = taps * ocp + s.oc, plane = s.oh * s.ow, in_image = s.c * s.h * s.w;
  const int64_t image_floats = s.c * (2 * th + 2) * wp + kDirectSlack;
  const int64_t blocks = (s.n + block - 1) / block;
  const bool unpadded = reads_unpadded(tw, lanes);
  float* partials = thread_scratch(ScratchSlot::kPartials, blocks * stride);
  parallel_for(blocks, [&](int64_t blk) {
    // The kernel writes the block's dW part whole: only db's needs zeros.
    float* part = partials + blk * stride;
    std::fill(part + taps * ocp, part + stride, 0.0f);
    const int64_t n0 = blk * block, n1 = std::min(s.n, n0 + block);
    if (dw != nullptr) {
      float* padded = unpadded ? nullptr : thread_scratch(ScratchSlot::kColumns, per_chunk * image_floats);
      WinogradDweightArgs a{};
      a.c = s.c, a.oc = s.oc, a.ocp = ocp, a.th = th, a.tw = tw, a.rows = rows, a.wp = wp, a.h = unpadded ? s.h : 0;
      a.m = thread_scratch(ScratchSlot::kGemm, 16 * s.c * ocp);
      a.v = thread_scratch(ScratchSlot::kColumnGrad, 16 * s.c * kWinogradChunkTiles);
      a.d = thread_scratch(ScratchSlot::kGradBlock, 20 * kWinogradChunkTiles * ocp);
      a.dwt = part;
      // The block's pieces in order, image by image and band by band; each image padded once, at its first band.
      const int64_t count = (n1 - n0) * bands;
      for (int64_t i = 0; i < count; i += per_chunk) {
        a.pieces = std::min(per_chunk, count - i);
        a.first = i == 0;
        a.last = i + a.pieces == count;
        for (int64_t p = 0; p < a.pieces; ++p) {
          const int64_t n = n0 + (i + p) / bands;
          a.ty0[p] = (i + p) % bands * rows;
          a.inp[p] = unpadded ? inp + n * in_image : padded + p * image_floats;
          a.dout[p] = dout + n * s.oc * plane;
          if (!unpadded && a.ty0[p] == 0)
            pad_rows_to(padded + p * image_floats, inp + n * in_image, s.c, s.h, s.w, -1, 2 * th + 2, 1, wp);
        }
        // A short last band: its own call.
        if (bands > 1 && a.ty0[0] + rows > th) a.rows = th - a.ty0[0];
        t.conv2d_winograd_dweight(a);
        a.rows = rows;
      }
    }
    if (db != nullptr) {
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t o = 0; o < s.oc; ++o) {
          // 16 running sums (the planes are whole multiples of 16 pixels), added in a fixed order: the compiler
          // vectorises this, where one running sum waits on each add.
          const float* grad = dout + (n * s.oc + o) * plane;
          float acc[16] = {};
          for (int64_t p = 0; p < plane; p += 16)
            for (int l = 0; l < 16; ++l) acc[l] += grad[p + l];
          for (int l = 1; l < 16; ++l) acc[0] += acc[l];
          part[taps * ocp + o] += acc[0];
        }
    }
  });
  if (dw != nullptr) add_partials_transposed(dw, partials, blocks, stride, taps, s.oc, ocp);
  if (db != nullptr) add_partials(db, partials + taps * ocp, blocks, stride, s.oc);
}

}  // namespace simdnet
