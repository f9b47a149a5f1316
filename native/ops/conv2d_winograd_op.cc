// SPDX-License-Identifier: MIT
// conv2d forward of 3x3 stride-1 padding-1 convs with many channels by Winograd F(2x2, 3x3)
// (kernels/conv2d/conv2d_winograd_impl.inc): 16 multiply-adds per 2 x 2 outputs and channel pair instead of 36; the
// forward and both gradients by F(4x4, 3x3) where it measured faster (winograd_tile): 36 per 4 x 4 instead of 144.
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

// The 3x3 kernel g of output channel o and input channel ci of the conv of shape s. With `flipped` that conv is the
// input gradient of w's (transposed_shape): its output channel o is w's input channel, its input channel ci w's output
// channel, and g is w's kernel turned by 180 degrees (its 9 taps reversed).
void kernel_taps(float* g, const float* w, const Conv2dShape& s, int64_t o, int64_t ci, bool flipped) {
  const float* src = w + (flipped ? ci * s.oc + o : o * s.c + ci) * 9;
  for (int k = 0; k < 9; ++k) g[k] = src[flipped ? 8 - k : k];
}

// U [kA * kA, c, ocp] = G g G^T of each 3x3 kernel g (kernel_taps), kA = tile + 2: for F(2x2, 3x3)
// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], for F(4x4, 3x3) (Lavin & Gray's points 0, 1, -1, 2, -2, infinity)
// G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. Each written out without its
// zeros: a general 3-term product per entry made the F(2x2) transform (per call in training) 15% slower.
template <int kA>
static void g_times(float* o, int64_t stride, float a, float b, float c) {
  if constexpr (kA == 4) {
    o[0] = a;
    o[stride] = 0.5f * (a + b + c);
    o[2 * stride] = 0.5f * (a - b + c);
    o[3 * stride] = c;
  } else {
    o[0] = 0.25f * a;
    o[stride] = (a + b + c) * (-1 / 6.0f);
    o[2 * stride] = (a - b + c) * (-1 / 6.0f);
    o[3 * stride] = a * (1 / 24.0f) + b * (1 / 12.0f) + c * (1 / 6.0f);
    o[4 * stride] = a * (1 / 24.0f) - b * (1 / 12.0f) + c * (1 / 6.0f);
    o[5 * stride] = c;
  }
}

// Input channels across threads (each writes only its own rows of u): in training the weights change every step, so
// every conv transforms them per call, and on the calling thread alone that was 1.4% of a ResNet-20 step with the
// other thread idle. Not inside an inference program's region, where every member packs (into its own scratch, or
// one member under the pack cache's lock): a loop there would share its items among the members.
template <int kA>
void transform_weights(float* u, const float* w, const Conv2dShape& s, int64_t ocp, bool flipped) {
  const auto channels = [&](int64_t c0, int64_t c1) {
    for (int64_t ci = c0; ci < c1; ++ci) {
      for (int64_t i = 0; i < kA * kA; ++i)
        std::fill(u + (i * s.c + ci) * ocp + s.oc, u + (i * s.c + ci + 1) * ocp, 0.0f);  // the channel padding
      for (int64_t o = 0; o < s.oc; ++o) {
        float g[9], gg[kA][3];  // gg = G g
        kernel_taps(g, w, s, o, ci, flipped);
        for (int k = 0; k < 3; ++k) g_times<kA>(&gg[0][k], 3, g[k], g[3 + k], g[6 + k]);
        for (int i = 0; i < kA; ++i)
          g_times<kA>(u + ((kA * i) * s.c + ci) * ocp + o, s.c * ocp, gg[i][0], gg[i][1], gg[i][2]);
      }
    }
  };
  const double work = 40.0 * kA * kA * static_cast<double>(s.c * s.oc);  // about 40 flops' time per value written
  if (in_region())
    channels(0, s.c);
  else
    parallel_columns(s.c, 1, work, channels);
}

// Whether the input transform reads the images in place (rows of one or more whole vectors of tiles, or two or four
// tile rows per vector) rather than a padded copy: on AVX-512 only, where it saved 5-15% of the 16-channel convs at 32
// px and the 32-channel ones at 16 px; on AVX2 (two instructions per shuffle of two sources) it saved nothing
// measurable.
bool reads_unpadded(int64_t tw, int64_t lanes) {
  return lanes == 16 && (tw % lanes == 0 || 2 * tw == lanes || 4 * tw == lanes);
}

// F(4x4, 3x3) (tile 4) where it measured faster than F(2x2, 3x3) (docs/conv-kernels.md, sessions 18 and 19; the
// weight gradient's too): on AVX2 at 8, 16 and 32 px rows, on AVX-512 at 16 and 32, and at 8 px from kMinImages4
// images (an 8 x 8 plane is 4 tiles: 4 images fill a vector and a GEMM block; one image per block lost to F(2x2)'s
// in-place read, and batch 1 keeps F(2x2)'s bands on two threads). NEON and SIMD128 compile it but do not take it.
constexpr int64_t kMinImages4 = 8;
int winograd_tile(const Conv2dShape& s, int64_t lanes) {
  const int64_t tw = s.ow / 4;
  if (s.oh % 4 != 0 || s.ow % 4 != 0) return 2;
  if (lanes == 8) return tw == 2 || tw == 4 || tw == 8 ? 4 : 2;
  if (lanes == 16) return tw == 4 || tw == 8 || (tw == 2 && s.n >= kMinImages4) ? 4 : 2;
  return 2;
}

// Images per F(4x4) work item on planes of fewer than 16 tiles, on AVX-512: whole GEMM blocks of images (4 at 8 px),
// fewer when that leaves a thread without work. The forward's results do not depend on it (each output's sums run over
// the channels in the same order in any block), only its speed. AVX2 keeps one image per item: its stacks (2 images
// per vector, 16-tile blocks) measured 5-20% slower at 8 px, and about even with 4-tile GEMM tiles only (session 19).
int64_t winograd_group(const Conv2dShape& s, int tile, int64_t lanes) {
  const int64_t th = s.oh / tile, tw = s.ow / tile;
  if (tile != 4 || th * tw >= 16 || lanes < 16) return 1;
  const int64_t per_block = winograd_group_block_rows(th, tw, s.n) / th;
  return std::max<int64_t>(1, std::min(per_block, (s.n + num_threads() - 1) / num_threads()));
}

// out (+)= the conv of inp [n, c, oh, ow] with the transformed weights u (of `tile`): per image, or band of tile rows
// when there are fewer images than threads (as the direct paths cut output rows), or group of images (F(4x4) on small
// planes: winograd_group); then the residual while the band is in cache. F(4x4, 3x3) always reads the image in place.
void winograd_run(const KernelTable& t, float* out, const float* inp, const float* u, const float* b,
                  const Conv2dShape& s, int tile, bool fuse_relu, bool add, const ConvResidual& residual) {
  const int64_t lanes = t.vec_lanes, ocp = (s.oc + lanes - 1) / lanes * lanes, pos = (tile + 2) * (tile + 2);
  const int64_t th = s.oh / tile, tw = s.ow / tile, wp = (tile * tw + lanes - 1) / lanes * lanes + lanes;
  const int64_t group = winograd_group(s, tile, lanes), in_image = s.c * s.h * s.w, plane = s.oh * s.ow;
  const int64_t rb = group > 1 ? winograd_group_block_rows(th, tw, group) : winograd_block_rows(th, tw);
  const int64_t bands = group > 1 ? 1 : parts_per_item(s.n, th, 2.0 * 9.0 * static_cast<double>(s.c * s.oc * plane));
  const int64_t items = (s.n + group - 1) / group;
  const bool unpadded = tile == 4 || reads_unpadded(tw, lanes);
  parallel_for(items * bands, [&](int64_t item) {
    const int64_t n = item / bands * group, images = std::min(group, s.n - n);
    const PartRange tiles = part_range(th, 1, bands, item % bands);
    const int64_t band_th = tiles.end - tiles.begin;
    if (band_th == 0) return;
    const int64_t row0 = tile * tiles.begin - 1;
    const float* image =
        unpadded ? inp + n * in_image
                 : pad_rows(ScratchSlot::kColumns, inp + n * in_image, s.c, s.h, s.w, row0, tile * band_th + 2, 1, wp);
    float* dst = out + n * s.oc * plane;
    float* v = thread_scratch(ScratchSlot::kColumnGrad, pos * s.c * winograd_channel_floats(rb, tw, lanes));
    // The GEMMs run whole groups of 4 tiles (an F(4x4) band of one tile row at 8 px has 2).
    float* m = thread_scratch(ScratchSlot::kGradBlock, (rb * tw + 3) / 4 * 4 * pos * ocp);
    WinogradArgs a{};
    a.c = s.c, a.oc = s.oc, a.ocp = ocp, a.th = band_th, a.tw = tw, a.inp = image, a.wp = wp, a.u = u, a.bias = b;
    a.out = dst + tile * tiles.begin * s.ow, a.plane = plane, a.relu = fuse_relu && residual.data == nullptr;
    a.add = add, a.v = v, a.m = m, a.h = unpadded ? s.h : 0, a.row0 = row0, a.tile = tile;
    a.images = images, a.in_image = in_image, a.out_image = s.oc * plane;
    t.conv2d_winograd_forward(a);
    if (residual.data != nullptr)
      for (int64_t k = n; k < n + images; ++k)
        conv2d_add_residual(out + k * s.oc * plane, residual.at(k, 0), s.oc, s.oh, s.ow, tile * tiles.begin,
                            tile * tiles.end, fuse_relu);
  });
}

// U of the conv s (flipped: as above) for `tile` into u ((tile + 2)^2 * c * ocp floats).
void transform_weights(float* u, const float* w, const Conv2dShape& s, int64_t ocp, bool flipped, int tile) {
  if (tile == 4)
    transform_weights<6>(u, w, s, ocp, flipped);
  else
    transform_weights<4>(u, w, s, ocp, flipped);
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
  const int tile = winograd_tile(s, t.vec_lanes);
  const int64_t lanes = t.vec_lanes, ocp = (s.oc + lanes - 1) / lanes * lanes;
  const int64_t size = (tile + 2) * (tile + 2) * s.c * ocp;
  const auto pack = [&](float* u) { transform_weights(u, w, s, ocp, false, tile); };
  const float* u = nullptr;
  if (cache != nullptr) {
    u = cache->get(w, tile == 4 ? kWinograd4Path : kWinogradPath, 1, lanes, size, pack);
  } else {
    float* scratch = thread_scratch(ScratchSlot::kPackedWeights, size);
    pack(scratch);
    u = scratch;
  }
  winograd_run(t, out, inp, u, b, s, tile, fuse_relu, false, residual);
}

// A 3x3 stride-1 padding-1 conv's transposed conv is one too (padding 3 - 1 - 1), on the same plane size.
bool conv2d_winograd_dinput_applies(const Conv2dShape& s, const KernelTable& t) {
  return conv2d_winograd_applies(transposed_shape(s), t);
}

void conv2d_winograd_dinput_op(const KernelTable& t, float* dinp, const float* dout, const float* w,
                               const Conv2dShape& s, bool add) {
  const Conv2dShape r = transposed_shape(s);
  const int tile = winograd_tile(r, t.vec_lanes);
  const int64_t ocp = (r.oc + t.vec_lanes - 1) / t.vec_lanes * t.vec_lanes;
  // The weights change every training step: transformed per call (a small cost next to the conv).
  float* u = thread_scratch(ScratchSlot::kPackedWeights, (tile + 2) * (tile + 2) * r.c * ocp);
  transform_weights(u, w, r, ocp, true, tile);
  winograd_run(t, dinp, dout, u, nullptr, r, tile, false, add, ConvResidual{});
}

bool conv2d_winograd_dweight_applies(const Conv2dShape& s, const KernelTable& t) {
  return t.conv2d_winograd_dweight != nullptr && conv2d_winograd_applies(s, t);
}

// Per block of images (a fixed count for the shape), its tiles (F(2x2) or F(4x4) as winograd_tile) in chunks (whole
// images while an image has at most kWinogradChunkTiles tiles, up to kWinogradMaxPieces of them, else bands of tile
// rows) summed into the block's m, then its partial dW = G^T m G, added into dw in block order (partials.h); db as the
// channel path.
void conv2d_winograd_dweight_op(const KernelTable& t, float* dw, float* db, const float* dout, const float* inp,
                                const Conv2dShape& s) {
  const int64_t lanes = t.vec_lanes, ocp = (s.oc + lanes - 1) / lanes * lanes;
  const int tile = winograd_tile(s, lanes), pos = (tile + 2) * (tile + 2);
  const int64_t th = s.oh / tile, tw = s.ow / tile, wp = (tile * tw + lanes - 1) / lanes * lanes + lanes;
  const int64_t rows = std::min(th, kWinogradChunkTiles / tw), bands = (th + rows - 1) / rows;
  // An image's tiles in v: rounded up to whole vectors, but F(4x4)'s whole-image pieces are transformed as one stack.
  const int64_t plane = s.oh * s.ow;
  const int64_t image_tiles = tile == 4 && bands == 1 ? th * tw : (th * tw + lanes - 1) / lanes * lanes;
  const int64_t per_chunk =
      bands > 1 ? 1 : std::clamp<int64_t>(kWinogradChunkTiles / image_tiles, 1, kWinogradMaxPieces);
  // At least kMinBlockTiles F(2x2) tiles (plane / 4, whichever the tile) per block: the partials' sum costs as much
  // per block as a block of 4 8-px images' GEMMs (64 channels). But no fewer than kMinBlocks blocks while they keep 4
  // images or more, so that small batches still spread over a few threads (16 8-px images: 4 blocks, not one; 8 blocks
  // of 8 at batch 64 cost the 128-channel conv 15% against 4 of 16).
  const int64_t block =
      std::max(kImagesPerPartial, std::min(4 * kMinBlockTiles / plane, (s.n + kMinBlocks - 1) / kMinBlocks));
  const int64_t taps = 9 * s.c, stride = taps * ocp + s.oc, in_image = s.c * s.h * s.w;
  const int64_t image_floats = s.c * (2 * th + 2) * wp + kDirectSlack;
  const int64_t blocks = (s.n + block - 1) / block;
  const bool unpadded = tile == 4 || reads_unpadded(tw, lanes);
  float* partials = thread_scratch(ScratchSlot::kPartials, blocks * stride);
  parallel_for(blocks, [&](int64_t blk) {
    // The kernel writes the block's dW part whole: only db's needs zeros.
    float* part = partials + blk * stride;
    std::fill(part + taps * ocp, part + stride, 0.0f);
    const int64_t n0 = blk * block, n1 = std::min(s.n, n0 + block);
    if (dw != nullptr) {
      float* padded = unpadded ? nullptr : thread_scratch(ScratchSlot::kColumns, per_chunk * image_floats);
      WinogradDweightArgs a{};
      a.c = s.c, a.oc = s.oc, a.ocp = ocp, a.tile = tile, a.th = th, a.tw = tw, a.rows = rows, a.wp = wp;
      a.h = unpadded ? s.h : 0;
      a.in_image = in_image;
      a.m = thread_scratch(ScratchSlot::kGemm, pos * s.c * ocp);
      a.v = thread_scratch(ScratchSlot::kColumnGrad, pos * s.c * (tile == 4 ? kWinograd4Channel : kWinogradChunkTiles));
      // D (pos values per tile), then dout transposed (tile^2 pixels per tile).
      a.d = thread_scratch(ScratchSlot::kGradBlock, (pos + tile * tile) * kWinogradChunkTiles * ocp);
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
