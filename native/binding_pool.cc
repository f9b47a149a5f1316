// SPDX-License-Identifier: MIT
// N-API surface of pooling: max pooling (PyTorch's sizes, padding and dilation rules; argmax
// checked on the way back) and the window means behind AvgPool2d and AdaptiveAvgPool2d (windows
// computed in TypeScript, checked here). Argument checks, then ops/pool2d_op.cc and
// ops/window_mean_op.cc. Registered by binding.cc through register_pool_exports.
#include <napi.h>

#include <cmath>
#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "ops/ops.h"

namespace simdnet {
namespace {

// Pool sizes: positions [first, first + 11) hold n, c, h, w, kh, kw, sh, sw, ph, pw, ceilMode, then the
// optional dilationH, dilationW (default 1).
Pool2dShape read_pool2d_shape(ArgReader& a, size_t first) {
  Pool2dShape s{};
  s.n = a.size(first + 0, "n");
  s.c = a.size(first + 1, "c");
  s.h = a.size(first + 2, "h");
  s.w = a.size(first + 3, "w");
  s.kh = a.size(first + 4, "kernelH");
  s.kw = a.size(first + 5, "kernelW");
  s.sh = a.size(first + 6, "strideH");
  s.sw = a.size(first + 7, "strideW");
  s.ph = a.size(first + 8, "padH", 0);
  s.pw = a.size(first + 9, "padW", 0);
  const bool ceil_mode = a.size(first + 10, "ceilMode", 0) != 0;
  s.dh = a.count() > first + 11 ? a.size(first + 11, "dilationH") : 1;
  s.dw = a.count() > first + 12 ? a.size(first + 12, "dilationW") : 1;
  // Products the output-size formula forms must not overflow (a wrapped size would be accepted).
  a.mul(s.dh, s.kh - 1, "dilated kernel height");
  a.mul(s.dw, s.kw - 1, "dilated kernel width");
  if (2 * s.ph > s.kh || 2 * s.pw > s.kw) {
    throw_range(a.env(), a.prefix("padding") + " " + std::to_string(s.ph) + "x" + std::to_string(s.pw) +
                             " must be at most half the kernel " + std::to_string(s.kh) + "x" + std::to_string(s.kw));
  }
  const std::string dilated =
      s.dh == 1 && s.dw == 1 ? "" : " (dilation " + std::to_string(s.dh) + "x" + std::to_string(s.dw) + ")";
  s.oh = pool_output_size(s.h, s.kh, s.sh, s.ph, s.dh, ceil_mode);
  s.ow = pool_output_size(s.w, s.kw, s.sw, s.pw, s.dw, ceil_mode);
  if (s.oh < 1 || s.ow < 1) {
    throw_range(a.env(), a.prefix("kernel") + " " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + dilated +
                             " does not fit the input " + std::to_string(s.h) + "x" + std::to_string(s.w));
  }
  if (pool_window_in_padding(s.h, s.kh, s.ph, s.dh) || pool_window_in_padding(s.w, s.kw, s.pw, s.dw)) {
    throw_range(a.env(), a.prefix("kernel") + " " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + dilated +
                             " has a window holding only padding on the input " + std::to_string(s.h) + "x" +
                             std::to_string(s.w));
  }
  return s;
}

struct PoolCounts {
  int64_t input, output;  // N*C*H*W and N*C*OH*OW
};

PoolCounts pool_counts(ArgReader& a, const Pool2dShape& s) {
  const int64_t planes = a.mul(s.n, s.c, "input");
  return {a.mul(planes, a.mul(s.h, s.w, "input"), "input"), a.mul(planes, a.mul(s.oh, s.ow, "output"), "output")};
}

// maxPool2dForward(out, argmax, inp, n, c, h, w, kh, kw, sh, sw, ph, pw, ceilMode
//                 [, dilationH = 1, dilationW = 1])
Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  return guarded(info, "maxPool2dForward", [&] {
    ArgReader a(info, "maxPool2dForward", 14, 16);
    const Pool2dShape s = read_pool2d_shape(a, 3);
    const PoolCounts z = pool_counts(a, s);
    if (s.h * s.w > INT32_MAX) throw_range(a.env(), a.prefix("input") + " plane is too large for int32 argmax");
    float* out = a.f32_overwritten(0, "out", z.output, "N*C*OH*OW");
    int32_t* argmax = a.i32_overwritten(1, "argmax", z.output, "N*C*OH*OW");
    const float* inp = a.f32(2, "input", z.input, "N*C*H*W", false);
    a.check_no_aliasing();
    maxpool2d_forward_op(out, argmax, inp, s);
    return info.Env().Undefined();
  });
}

// maxPool2dBackward(dinp, dout, argmax, n, c, h, w, kh, kw, sh, sw, ph, pw, ceilMode
//                  [, dilationH = 1, dilationW = 1[, overwriteDinput = 0[, reluOutput | null]]]): dinp += the input
// gradient, or = it with overwriteDinput (then the caller need not zero it). reluOutput: the pool's input, when it is
// a ReLU's output: the gradient passes only where it is > 0 or NaN (that ReLU's backward in the same pass).
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "maxPool2dBackward", [&] {
    ArgReader a(info, "maxPool2dBackward", 14, 18);
    const Pool2dShape s = read_pool2d_shape(a, 3);
    const PoolCounts z = pool_counts(a, s);
    const bool overwrite = a.count() >= 17 && a.size(16, "overwriteDinput", 0) != 0;
    float* dinp =
        overwrite ? a.f32_overwritten(0, "dinput", z.input, "N*C*H*W") : a.f32(0, "dinput", z.input, "N*C*H*W", true);
    const float* dout = a.f32(1, "doutput", z.output, "N*C*OH*OW", false);
    const int32_t* argmax = a.i32(2, "argmax", z.output, "N*C*OH*OW", false);
    const float* relu_out = a.count() == 18 ? a.f32(17, "reluOutput", z.input, "N*C*H*W", false, true) : nullptr;
    a.check_no_aliasing();
    const int64_t plane = s.h * s.w;
    for (int64_t i = 0; i < z.output; ++i) {
      if (argmax[i] < 0 || argmax[i] >= plane) {
        throw_range(a.env(), a.prefix("argmax") + "[" + std::to_string(i) + "] = " + std::to_string(argmax[i]) +
                                 " is outside the H*W plane of " + std::to_string(plane));
      }
    }
    maxpool2d_backward_op(dinp, dout, argmax, s, !overwrite, relu_out);
    return info.Env().Undefined();
  });
}

// The checked arguments of one call. `big` is the [P, H, W] buffer (input, or dinput), `small` the
// [P, OH, OW] one (out, or doutput); the binding reads only what its direction treats as input.
struct WindowMeanArgs {
  WindowMeanShape s;
  int64_t planes;
  float* big;
  float* small;
};

std::string index_message(ArgReader& a, const char* name, int64_t i, int32_t v) {
  return a.prefix(name) + "[" + std::to_string(i) + "] = " + std::to_string(v);
}

// Every index of the windows of one axis in [0, size], and start <= end.
void check_axis(ArgReader& a, const int32_t* start, const int32_t* end, int64_t n, int64_t size, const char* start_name,
                const char* end_name, const char* size_name) {
  const std::string range = " is outside [0, " + std::string(size_name) + " = " + std::to_string(size) + "]";
  for (int64_t i = 0; i < n; ++i) {
    if (start[i] < 0 || start[i] > size) throw_range(a.env(), index_message(a, start_name, i, start[i]) + range);
    if (end[i] < 0 || end[i] > size) throw_range(a.env(), index_message(a, end_name, i, end[i]) + range);
    if (end[i] < start[i]) {
      throw_range(a.env(), index_message(a, end_name, i, end[i]) + " is less than " + start_name + "[" +
                               std::to_string(i) + "] = " + std::to_string(start[i]));
    }
  }
}

// Reads (out | dinput, input | doutput, rowStart, rowEnd, colStart, colEnd, divisor, planes, h, w, oh, ow).
WindowMeanArgs read_window_mean(ArgReader& a, bool forward) {
  WindowMeanArgs r{};
  r.planes = a.size(7, "planes");
  r.s.h = a.size(8, "h");
  r.s.w = a.size(9, "w");
  r.s.oh = a.size(10, "oh");
  r.s.ow = a.size(11, "ow");
  const int64_t in_count = a.mul(r.planes, a.mul(r.s.h, r.s.w, "input"), "input");
  const int64_t cells = a.mul(r.s.oh, r.s.ow, "output");
  const int64_t out_count = a.mul(r.planes, cells, "output");
  if (forward) {
    r.small = a.f32(0, "out", out_count, "planes*OH*OW", true);
    r.big = a.f32(1, "input", in_count, "planes*H*W", false);
  } else {
    r.big = a.f32(0, "dinput", in_count, "planes*H*W", true);
    r.small = a.f32(1, "doutput", out_count, "planes*OH*OW", false);
  }
  r.s.row_start = a.i32(2, "rowStart", r.s.oh, "OH", false);
  r.s.row_end = a.i32(3, "rowEnd", r.s.oh, "OH", false);
  r.s.col_start = a.i32(4, "colStart", r.s.ow, "OW", false);
  r.s.col_end = a.i32(5, "colEnd", r.s.ow, "OW", false);
  r.s.divisor = a.f64(6, "divisor", cells, "OH*OW", false);
  a.check_no_aliasing();
  check_axis(a, r.s.row_start, r.s.row_end, r.s.oh, r.s.h, "rowStart", "rowEnd", "h");
  check_axis(a, r.s.col_start, r.s.col_end, r.s.ow, r.s.w, "colStart", "colEnd", "w");
  // A divisor is only read where its window holds pixels: there it must give a finite mean.
  for (int64_t y = 0; y < r.s.oh; ++y) {
    if (r.s.row_start[y] == r.s.row_end[y]) continue;
    for (int64_t x = 0; x < r.s.ow; ++x) {
      const double d = r.s.divisor[y * r.s.ow + x];
      if (r.s.col_start[x] != r.s.col_end[x] && (!std::isfinite(d) || d == 0.0)) {
        throw_range(a.env(), a.prefix("divisor") + "[" + std::to_string(y * r.s.ow + x) + "] = " + format_number(d) +
                                 " must be finite and non-zero (its window is not empty)");
      }
    }
  }
  return r;
}

// windowMeanForward(out, input, rowStart, rowEnd, colStart, colEnd, divisor, planes, h, w, oh, ow)
Napi::Value WindowMeanForward(const Napi::CallbackInfo& info) {
  return guarded(info, "windowMeanForward", [&] {
    ArgReader a(info, "windowMeanForward", 12);
    const WindowMeanArgs r = read_window_mean(a, true);
    window_mean_forward_op(r.small, r.big, r.s, r.planes);
    return info.Env().Undefined();
  });
}

// windowMeanBackward(dinput, doutput, rowStart, rowEnd, colStart, colEnd, divisor, planes, h, w, oh, ow):
// accumulates into dinput.
Napi::Value WindowMeanBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "windowMeanBackward", [&] {
    ArgReader a(info, "windowMeanBackward", 12);
    const WindowMeanArgs r = read_window_mean(a, false);
    window_mean_backward_op(r.big, r.small, r.s, r.planes);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_pool_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2dForward", Napi::Function::New(env, MaxPool2dForward, "maxPool2dForward"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("windowMeanForward", Napi::Function::New(env, WindowMeanForward, "windowMeanForward"));
  exports.Set("windowMeanBackward", Napi::Function::New(env, WindowMeanBackward, "windowMeanBackward"));
}

}  // namespace simdnet
