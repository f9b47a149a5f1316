// SPDX-License-Identifier: MIT
// N-API surface of ConvTranspose2d's forward pass (ops/conv_transpose2d_op.cc: the conv2d input gradient). Its
// backward needs no export of its own: it is a conv2dForward and a conv2dBackward weight gradient. Registered by
// binding.cc through register_conv_transpose_exports.
#include <napi.h>

#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "ops/conv_transpose2d_op.h"

namespace simdnet {
namespace {

// conv2dTransposeForward(out, inp, weight, bias | null, n, inC, h, w, outC, kh, kw, sh, sw, ph, pw, oh, ow, dh, dw,
//                        groups): out [n, outC, oh, ow] from inp [n, inC, h, w] and weight [inC, outC/groups, kh, kw].
// The output size must be one whose Conv2d (same kernel, stride, padding, dilation) gives exactly h x w: PyTorch's
// (h - 1) sh - 2 ph + dh (kh - 1) + 1 + outputPadding with 0 <= outputPadding < sh.
Napi::Value Conv2dTransposeForward(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dTransposeForward", [&] {
    ArgReader a(info, "conv2dTransposeForward", 20);
    // The Conv2d of the same sizes maps the output [n, outC, oh, ow] back to the input [n, inC, h, w].
    Conv2dShape s{};
    s.n = a.size(4, "n");
    s.oc = a.size(5, "inChannels");
    s.oh = a.size(6, "h");
    s.ow = a.size(7, "w");
    s.c = a.size(8, "outChannels");
    s.kh = a.size(9, "kernelH");
    s.kw = a.size(10, "kernelW");
    s.sh = a.size(11, "strideH");
    s.sw = a.size(12, "strideW");
    s.ph = a.size(13, "padH", 0);
    s.pw = a.size(14, "padW", 0);
    s.h = a.size(15, "outH");
    s.w = a.size(16, "outW");
    s.dh = a.size(17, "dilationH");
    s.dw = a.size(18, "dilationW");
    s.groups = a.size(19, "groups");
    a.mul(s.dh, s.kh - 1, "dilated kernel height");
    a.mul(s.dw, s.kw - 1, "dilated kernel width");
    if (s.c % s.groups != 0 || s.oc % s.groups != 0) {
      throw_range(a.env(), a.prefix("groups") + " " + std::to_string(s.groups) + " must divide inChannels " +
                               std::to_string(s.oc) + " and outChannels " + std::to_string(s.c));
    }
    const int64_t back_h = conv_output_size(s.h, s.kh, s.sh, s.ph, s.dh);
    const int64_t back_w = conv_output_size(s.w, s.kw, s.sw, s.pw, s.dw);
    if (back_h != s.oh || back_w != s.ow) {
      throw_range(a.env(), a.prefix("output") + " " + std::to_string(s.h) + "x" + std::to_string(s.w) +
                               " does not match the input " + std::to_string(s.oh) + "x" + std::to_string(s.ow) +
                               ": its Conv2d gives " + std::to_string(back_h) + "x" + std::to_string(back_w));
    }
    const int64_t out_count = a.mul(a.mul(s.n, s.c, "output"), a.mul(s.h, s.w, "output"), "output");
    const int64_t in_count = a.mul(a.mul(s.n, s.oc, "input"), a.mul(s.oh, s.ow, "input"), "input");
    const int64_t w_count = a.mul(a.mul(s.oc, s.c / s.groups, "weight"), a.mul(s.kh, s.kw, "weight"), "weight");
    float* out = a.f32_overwritten(0, "out", out_count, "N*outC*OH*OW");
    const float* inp = a.f32(1, "input", in_count, "N*inC*H*W", false);
    const float* w = a.f32(2, "weight", w_count, "inC*(outC/groups)*KH*KW", false);
    const float* b = a.f32(3, "bias", s.c, "outC", false, true);
    a.check_no_aliasing();
    conv_transpose2d_forward_op(out, inp, w, b, s);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_conv_transpose_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dTransposeForward", Napi::Function::New(env, Conv2dTransposeForward, "conv2dTransposeForward"));
}

}  // namespace simdnet
