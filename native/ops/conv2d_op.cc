// SPDX-License-Identifier: MIT
// conv2d over a batch as GEMMs. Images go in blocks: the column matrices of a block sit side by
// side, so one GEMM has enough columns to fill its tiles (conv2 of LeNet has only 100 per image).
// Blocks are spread across threads; weight and bias gradients are summed per block, then blocks in
// order, so results are the same for every thread count.
#include <algorithm>
#include <cstring>

#include "conv2d_direct_op.h"
#include "kernels/conv2d/im2col.h"
#include "ops.h"
#include "parallel.h"
#include "partials.h"
#include "scratch.h"

namespace simdnet {
namespace {

struct ConvPlan {
  int64_t icg, ocg, k, p;  // channels per group, K = icg*kh*kw, P = oh*ow
  int64_t block;           // images per GEMM
  int64_t blocks;          // ceil(n / block)
  int64_t in_image, out_image;
};

ConvPlan plan(const Conv2dShape& s) {
  ConvPlan c{};
  c.icg = s.c / s.groups;
  c.ocg = s.oc / s.groups;
  c.k = c.icg * s.kh * s.kw;
  c.p = s.oh * s.ow;
  // A block's column matrix should stay in L2 (~512 KB); pointwise convs read the input in place.
  constexpr int64_t kColumnBytes = 512 * 1024, kMaxBlock = 16;
  c.block = conv_is_pointwise(s) ? 1 : std::clamp<int64_t>(kColumnBytes / (4 * c.k * c.p), 1, kMaxBlock);
  c.block = std::min(c.block, s.n);
  c.blocks = (s.n + c.block - 1) / c.block;
  c.in_image = s.c * s.h * s.w;
  c.out_image = s.oc * c.p;
  return c;
}

// Column matrix [K x nb*P] of images n0..n0+nb-1, group g (row stride returned in *ld).
const float* block_columns(const float* inp, int64_t n0, int64_t nb, int64_t g, const Conv2dShape& s, const ConvPlan& c,
                           int64_t* ld) {
  const float* first = inp + n0 * c.in_image + g * c.icg * s.h * s.w;
  if (conv_is_pointwise(s)) {  // block == 1: the input plane is the column matrix
    *ld = c.p;
    return first;
  }
  *ld = nb * c.p;
  float* col = thread_scratch(ScratchSlot::kColumns, c.k * nb * c.p);
  for (int64_t j = 0; j < nb; ++j) im2col(col + j * c.p, *ld, first + j * c.in_image, c.icg, s);
  return col;
}

// Output rows [o0, o1) of group g for the block of nb images at n0: bias, the GEMM against the
// block's columns into dst ([ocg x nb*P]: out itself for one image, else the tile), then ReLU or
// the scatter from the tile onto each image.
struct ForwardBlock {
  int64_t n0, nb, g;
  const float* col;
  int64_t ldb;
  float* tile;  // null for one image
};
void forward_rows(const KernelTable& t, float* out, const float* w, const float* b, const Conv2dShape& s,
                  const ConvPlan& c, bool fuse_relu, const ConvResidual& residual, const ForwardBlock& f, int64_t o0,
                  int64_t o1) {
  const int64_t ldc = f.nb * c.p;
  float* dst = f.tile ? f.tile : out + f.n0 * c.out_image + f.g * c.ocg * c.p;
  if (b != nullptr) {
    for (int64_t o = o0; o < o1; ++o) std::fill(dst + o * ldc, dst + (o + 1) * ldc, b[f.g * c.ocg + o]);
  }
  float* gemm_ws = thread_scratch(ScratchSlot::kGemm, sgemm_workspace_floats(o1 - o0, ldc, c.k));
  t.sgemm({o1 - o0, ldc, c.k, w + (f.g * c.ocg + o0) * c.k, c.k, 1, f.col, f.ldb, dst + o0 * ldc, ldc, b != nullptr},
          gemm_ws);
  for (int64_t j = 0; j < f.nb; ++j) {
    for (int64_t o = o0; o < o1; ++o) {
      float* orow = out + (f.n0 + j) * c.out_image + (f.g * c.ocg + o) * c.p;
      const float* src = f.tile ? f.tile + o * ldc + j * c.p : orow;
      if (residual.data != nullptr) {
        if (f.tile) std::memcpy(orow, src, sizeof(float) * static_cast<size_t>(c.p));
        conv2d_add_residual(orow, residual.at(f.n0 + j, f.g * c.ocg + o), 1, s.oh, s.ow, 0, s.oh, fuse_relu);
      } else if (fuse_relu) {
        for (int64_t i = 0; i < c.p; ++i) orow[i] = src[i] < 0.0f ? 0.0f : src[i];
      } else if (f.tile) {
        std::memcpy(orow, src, sizeof(float) * static_cast<size_t>(c.p));
      }
    }
  }
}

}  // namespace

void conv2d_gemm_backward(const KernelTable& t, float* dinp, float* dw, float* db, const float* dout, const float* inp,
                          const float* w, const Conv2dShape& s);

void conv2d_forward_op(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s,
                       bool fuse_relu, ConvPackCache* cache, const ConvResidual& residual) {
  const KernelTable& t = kernels();
  if (!t.use_gemm) {
    run_once([&] {  // once inside a program's parallel region too
      t.conv2d_forward(out, inp, w, b, s);
      if (residual.data != nullptr) {
        for (int64_t n = 0; n < s.n; ++n)
          conv2d_add_residual(out + n * s.oc * s.oh * s.ow, residual.at(n, 0), s.oc, s.oh, s.ow, 0, s.oh, fuse_relu);
      } else if (fuse_relu) {
        t.relu_forward(out, out, s.n * s.oc * s.oh * s.ow);
      }
    });
    return;
  }
  if (conv2d_winograd_applies(s, t)) {
    conv2d_winograd_forward_op(t, out, inp, w, b, s, fuse_relu, cache, residual);
    return;
  }
  if (!conv2d_channel_blocked_applies(s, t) && conv2d_direct_applies(s, t)) {
    conv2d_direct_forward_op(t, out, inp, w, b, s, fuse_relu, cache, residual);
    return;
  }
  if (conv2d_channel_applies(s, t)) {
    conv2d_channel_forward_op(t, out, inp, w, b, s, fuse_relu, cache, residual);
    return;
  }
  const ConvPlan c = plan(s);
  // Fewer blocks than threads (batch 1): output channels are cut into parts of whole GEMM tiles (8
  // rows); each output value is still one GEMM row's sum over K in the same order.
  constexpr int64_t kRowAlign = 8;
  const double block_flops = 2.0 * static_cast<double>(s.oc * c.k) * static_cast<double>(c.block * c.p);
  const int64_t parts = parts_per_item(c.blocks, (c.ocg + kRowAlign - 1) / kRowAlign, block_flops);
  if (parts > 1) {
    // The block's columns are gathered on the calling thread, then the parts run across threads.
    for (int64_t blk = 0; blk < c.blocks; ++blk) {
      const int64_t n0 = blk * c.block, nb = std::min(c.block, s.n - n0);
      float* tile = nb == 1 ? nullptr : thread_scratch(ScratchSlot::kColumnGrad, c.ocg * nb * c.p);
      for (int64_t g = 0; g < s.groups; ++g) {
        ForwardBlock f{n0, nb, g, nullptr, 0, tile};
        f.col = block_columns(inp, n0, nb, g, s, c, &f.ldb);
        parallel_for(parts, [&](int64_t part) {
          const PartRange r = part_range(c.ocg, kRowAlign, parts, part);
          if (r.begin < r.end) forward_rows(t, out, w, b, s, c, fuse_relu, residual, f, r.begin, r.end);
        });
      }
    }
    return;
  }
  parallel_for(c.blocks, [&](int64_t blk) {
    const int64_t n0 = blk * c.block, nb = std::min(c.block, s.n - n0);
    // One image writes straight into out; a block goes through a [ocg x nb*P] tile, then is scattered.
    float* tile = nb == 1 ? nullptr : thread_scratch(ScratchSlot::kColumnGrad, c.ocg * nb * c.p);
    for (int64_t g = 0; g < s.groups; ++g) {
      ForwardBlock f{n0, nb, g, nullptr, 0, tile};
      f.col = block_columns(inp, n0, nb, g, s, c, &f.ldb);
      forward_rows(t, out, w, b, s, c, fuse_relu, residual, f, 0, c.ocg);
    }
  });
}

void conv2d_backward_op(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                        const Conv2dShape& s, bool add_dinp) {
  const KernelTable& t = kernels();
  // Paths that only accumulate get a zeroed dinp when it is to be overwritten.
  const auto zero_dinp = [&] {
    if (dinp != nullptr && !add_dinp) std::memset(dinp, 0, sizeof(float) * static_cast<size_t>(s.n * s.c * s.h * s.w));
  };
  if (!t.use_gemm) {
    zero_dinp();
    t.conv2d_backward(dinp, dw, db, dout, inp, w, s);
    return;
  }
  // Weight/bias gradients and the input gradient each take the best kernel for the shape; when
  // both would use GEMMs, one pass shares the gathered output gradient.
  // Without dw and db (an input gradient alone: ConvTranspose2d's forward, frozen weights) no weight path runs.
  const bool any_dw = dw != nullptr || db != nullptr;
  const bool winograd_dw = dw != nullptr && conv2d_winograd_dweight_applies(s, t);
  const bool direct_dw = any_dw && !winograd_dw && conv2d_direct_dweight_preferred(s, t);
  const bool channel_dw = any_dw && !winograd_dw && !direct_dw && conv2d_channel_applies(s, t);
  const bool winograd_dinp = dinp != nullptr && conv2d_winograd_dinput_applies(s, t);
  const bool channel_dinp = dinp != nullptr && !winograd_dinp && conv2d_channel_dinput_applies(s, t);
  const bool direct_dinp = dinp != nullptr && !winograd_dinp && !channel_dinp && conv2d_direct_dinput_applies(s, t);
  const bool gemm_dw = any_dw && !winograd_dw && !direct_dw && !channel_dw;
  if (winograd_dw) conv2d_winograd_dweight_op(t, dw, db, dout, inp, s);
  if (direct_dw) conv2d_direct_dweight_op(t, dw, db, dout, inp, s);
  if (channel_dw) conv2d_channel_dweight_op(t, dw, db, dout, inp, s);
  if (winograd_dinp) conv2d_winograd_dinput_op(t, dinp, dout, w, s, add_dinp);
  if (channel_dinp) conv2d_channel_dinput_op(t, dinp, dout, w, s, add_dinp);
  if (direct_dinp) conv2d_direct_dinput_op(t, dinp, dout, w, s, add_dinp);
  const bool gemm_dinp = dinp != nullptr && !winograd_dinp && !direct_dinp && !channel_dinp;
  if (gemm_dinp) zero_dinp();
  if (gemm_dw || gemm_dinp) {
    conv2d_gemm_backward(t, gemm_dinp ? dinp : nullptr, gemm_dw ? dw : nullptr, gemm_dw ? db : nullptr, dout, inp, w,
                         s);
  }
}

// The im2col + GEMM backward (any shape).
void conv2d_gemm_backward(const KernelTable& t, float* dinp, float* dw, float* db, const float* dout, const float* inp,
                          const float* w, const Conv2dShape& s) {
  const ConvPlan c = plan(s);
  const int64_t w_count = s.oc * c.k;
  const int64_t partial_stride = w_count + s.oc;
  // Per-block partial dW and db, on the calling thread's scratch (each JS thread has its own).
  float* partials = nullptr;
  if (dw != nullptr || db != nullptr) partials = thread_scratch(ScratchSlot::kPartials, c.blocks * partial_stride);
  parallel_for(c.blocks, [&](int64_t blk) {
    const int64_t n0 = blk * c.block, nb = std::min(c.block, s.n - n0);
    const int64_t ldd = nb * c.p;
    // The block's output gradient as one [OC x nb*P] matrix.
    const float* grad = dout + n0 * c.out_image;
    if (nb > 1) {
      float* gathered = thread_scratch(ScratchSlot::kGradBlock, s.oc * ldd);
      for (int64_t j = 0; j < nb; ++j)
        for (int64_t o = 0; o < s.oc; ++o)
          std::memcpy(gathered + o * ldd + j * c.p, dout + (n0 + j) * c.out_image + o * c.p,
                      sizeof(float) * static_cast<size_t>(c.p));
      grad = gathered;
    }
    float* pdw = partials ? zeroed_partial(partials, blk, partial_stride) : nullptr;
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* grad_g = grad + g * c.ocg * ldd;  // [ocg x nb*P]
      if (dw != nullptr) {
        int64_t ldb = 0;
        const float* col = block_columns(inp, n0, nb, g, s, c, &ldb);
        t.sgemm_nt({c.ocg, c.k, ldd, grad_g, ldd, col, ldb, pdw + g * c.ocg * c.k, c.k, true});
      }
      if (dinp != nullptr) {
        // dcol [K x nb*P] = W_g^T [K x ocg] * grad_g, scattered back onto each image.
        const float* wg = w + g * c.ocg * c.k;
        float* first = dinp + n0 * c.in_image + g * c.icg * s.h * s.w;
        float* gemm_ws = thread_scratch(ScratchSlot::kGemm, sgemm_workspace_floats(c.k, ldd, c.ocg));
        if (conv_is_pointwise(s)) {
          t.sgemm({c.k, ldd, c.ocg, wg, 1, c.k, grad_g, ldd, first, c.p, true}, gemm_ws);
        } else {
          float* dcol = thread_scratch(ScratchSlot::kColumnGrad, c.k * ldd);
          t.sgemm({c.k, ldd, c.ocg, wg, 1, c.k, grad_g, ldd, dcol, ldd, false}, gemm_ws);
          for (int64_t j = 0; j < nb; ++j) col2im_add(first + j * c.in_image, dcol + j * c.p, ldd, c.icg, s);
        }
      }
    }
    if (db != nullptr) {
      float* pdb = partials + blk * partial_stride + w_count;
      for (int64_t o = 0; o < s.oc; ++o) {
        const float* row = grad + o * ldd;
        float acc = 0.0f;
        for (int64_t i = 0; i < ldd; ++i) acc += row[i];
        pdb[o] += acc;
      }
    }
  });
  if (dw != nullptr) add_partials(dw, partials, c.blocks, partial_stride, w_count);
  if (db != nullptr) add_partials(db, partials + w_count, c.blocks, partial_stride, s.oc);
}

}  // namespace simdnet
