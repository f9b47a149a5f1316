// SPDX-License-Identifier: MIT
// conv2d over a batch: im2col + GEMM per image and group, images spread across threads.
// Weight and bias gradients are summed per fixed chunk of images, then chunks in order, so the
// result is the same for every thread count.
#include <algorithm>
#include <cstring>

#include "kernels/conv2d/im2col.h"
#include "ops.h"
#include "parallel.h"
#include "scratch.h"

namespace simdnet {
namespace {

// Images per gradient chunk are a function of the batch only (not of the thread count).
constexpr int64_t kMaxGradChunks = 16;

struct ConvDims {
  int64_t icg, ocg, k, p;  // channels per group, K = icg*kh*kw, P = oh*ow
};

ConvDims dims(const Conv2dShape& s) {
  const int64_t icg = s.c / s.groups;
  return {icg, s.oc / s.groups, icg * s.kh * s.kw, s.oh * s.ow};
}

// The K x P column matrix of image n, group g: the input itself for pointwise convolutions.
const float* columns(const float* inp, int64_t n, int64_t g, const Conv2dShape& s, const ConvDims& d) {
  const float* image = inp + (n * s.c + g * d.icg) * s.h * s.w;
  if (conv_is_pointwise(s)) return image;
  float* col = thread_scratch(ScratchSlot::kColumns, d.k * d.p);
  im2col(col, image, d.icg, s);
  return col;
}

}  // namespace

void conv2d_forward_op(float* out, const float* inp, const float* w, const float* b, const Conv2dShape& s,
                       bool fuse_relu) {
  const KernelTable& t = kernels();
  const int64_t out_image = s.oc * s.oh * s.ow;
  if (!t.use_gemm) {
    t.conv2d_forward(out, inp, w, b, s);
    if (fuse_relu) t.relu_forward(out, out, s.n * out_image);
    return;
  }
  const ConvDims d = dims(s);
  parallel_for(s.n, [&](int64_t n) {
    float* gemm_ws = thread_scratch(ScratchSlot::kGemm, sgemm_workspace_floats(d.ocg, d.p, d.k));
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* col = columns(inp, n, g, s, d);
      float* c = out + n * out_image + g * d.ocg * d.p;
      if (b != nullptr) {
        for (int64_t o = 0; o < d.ocg; ++o) std::fill(c + o * d.p, c + (o + 1) * d.p, b[g * d.ocg + o]);
      }
      t.sgemm({d.ocg, d.p, d.k, w + g * d.ocg * d.k, d.k, 1, col, d.p, c, d.p, b != nullptr}, gemm_ws);
    }
    if (fuse_relu) t.relu_forward(out + n * out_image, out + n * out_image, out_image);
  });
}

void conv2d_backward_op(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                        const Conv2dShape& s) {
  const KernelTable& t = kernels();
  if (!t.use_gemm) {
    t.conv2d_backward(dinp, dw, db, dout, inp, w, s);
    return;
  }
  const ConvDims d = dims(s);
  const int64_t out_image = s.oc * d.p, in_image = s.c * s.h * s.w;
  const int64_t w_count = s.oc * d.k;
  const int64_t chunks = std::min(s.n, kMaxGradChunks);
  const int64_t partial_stride = w_count + s.oc;
  // Per-chunk partial dW and db, on the calling thread's scratch (each JS thread has its own).
  float* partials = nullptr;
  if (dw != nullptr || db != nullptr) {
    partials = thread_scratch(ScratchSlot::kPartials, chunks * partial_stride);
    std::memset(partials, 0, sizeof(float) * static_cast<size_t>(chunks * partial_stride));
  }
  parallel_for(chunks, [&](int64_t chunk) {
    const int64_t n0 = s.n * chunk / chunks, n1 = s.n * (chunk + 1) / chunks;
    float* pdw = partials ? partials + chunk * partial_stride : nullptr;
    float* pdb = partials ? pdw + w_count : nullptr;
    float* gemm_ws = dinp ? thread_scratch(ScratchSlot::kGemm, sgemm_workspace_floats(d.k, d.p, d.ocg)) : nullptr;
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t g = 0; g < s.groups; ++g) {
        const float* gout = dout + n * out_image + g * d.ocg * d.p;  // [ocg x P]
        if (dw != nullptr) {
          // dW_g [ocg x K] += dout_g [ocg x P] * col^T
          const float* col = columns(inp, n, g, s, d);
          t.sgemm_nt({d.ocg, d.k, d.p, gout, d.p, col, d.p, pdw + g * d.ocg * d.k, d.k, true});
        }
        if (dinp != nullptr) {
          // dcol [K x P] = W_g^T [K x ocg] * dout_g, scattered back onto the input.
          float* image = dinp + n * in_image + g * d.icg * s.h * s.w;
          const float* wg = w + g * d.ocg * d.k;
          if (conv_is_pointwise(s)) {
            t.sgemm({d.k, d.p, d.ocg, wg, 1, d.k, gout, d.p, image, d.p, true}, gemm_ws);
          } else {
            float* dcol = thread_scratch(ScratchSlot::kColumnGrad, d.k * d.p);
            t.sgemm({d.k, d.p, d.ocg, wg, 1, d.k, gout, d.p, dcol, d.p, false}, gemm_ws);
            col2im_add(image, dcol, d.icg, s);
          }
        }
      }
      if (db != nullptr) {
        for (int64_t o = 0; o < s.oc; ++o) {
          const float* row = dout + n * out_image + o * d.p;
          float acc = 0.0f;
          for (int64_t i = 0; i < d.p; ++i) acc += row[i];
          pdb[o] += acc;
        }
      }
    }
  });
  for (int64_t chunk = 0; chunk < chunks && partials; ++chunk) {
    const float* pdw = partials + chunk * partial_stride;
    if (dw != nullptr) {
      for (int64_t i = 0; i < w_count; ++i) dw[i] += pdw[i];
    }
    if (db != nullptr) {
      for (int64_t o = 0; o < s.oc; ++o) db[o] += pdw[w_count + o];
    }
  }
}

}  // namespace simdnet
