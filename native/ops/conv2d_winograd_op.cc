// SPDX-License-Identifier: MIT
// conv2d forward of 3x3 stride-1 padding-1 convs with many channels by Winograd F(2x2, 3x3)
// (kernels/conv2d/conv2d_winograd_impl.inc): 16 multiply-adds per 2 x 2 outputs and channel pair instead of 36.
// The weights are transformed once (U = G g G^T, kept with a snapshot's packed weights); each image, or band of
// tile rows at batch 1, is padded and transformed on its own, so results do not depend on the thread count.
#include <cstring>

#include "conv2d_direct_op.h"
#include "conv2d_pack_cache.h"
#include "parallel.h"
#include "scratch.h"

namespace simdnet {
namespace {

// With fewer channels (ResNet-20's 16-channel stage) the transforms weigh more against the GEMMs; not measured there.
constexpr int64_t kMinChannels = 32;

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

// out (+)= the conv of inp [n, c, oh, ow] with the transformed weights u: per image, or band of tile rows when there
// are fewer images than threads (as the direct paths cut output rows); then the residual while the band is in cache.
void winograd_run(const KernelTable& t, float* out, const float* inp, const float* u, const float* b,
                  const Conv2dShape& s, bool fuse_relu, bool add, const ConvResidual& residual) {
  const int64_t lanes = t.vec_lanes, ocp = (s.oc + lanes - 1) / lanes * lanes;
  const int64_t th = s.oh / 2, tw = s.ow / 2, wp = (2 * tw + lanes - 1) / lanes * lanes + lanes;
  const int64_t rb = winograd_block_rows(th, tw), in_image = s.c * s.h * s.w, plane = s.oh * s.ow;
  const int64_t bands = parts_per_item(s.n, th, 2.0 * 9.0 * static_cast<double>(s.c * s.oc * plane));
  parallel_for(s.n * bands, [&](int64_t item) {
    const int64_t n = item / bands;
    const PartRange tiles = part_range(th, 1, bands, item % bands);
    const int64_t band_th = tiles.end - tiles.begin;
    if (band_th == 0) return;
    const float* image =
        pad_rows(ScratchSlot::kColumns, inp + n * in_image, s.c, s.h, s.w, 2 * tiles.begin - 1, 2 * band_th + 2, 1, wp);
    float* dst = out + n * s.oc * plane;
    float* v = thread_scratch(ScratchSlot::kColumnGrad, 16 * s.c * winograd_channel_floats(rb, tw, lanes));
    float* m = thread_scratch(ScratchSlot::kGradBlock, rb * tw * 16 * ocp);
    t.conv2d_winograd_forward({s.c, s.oc, ocp, band_th, tw, image, wp, u, b, dst + 2 * tiles.begin * s.ow, plane,
                               fuse_relu && residual.data == nullptr, add, v, m});
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

}  // namespace simdnet
