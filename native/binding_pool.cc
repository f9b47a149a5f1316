// SPDX-License-Identifier: MIT
// N-API surface of the window-mean kernels (kernels/pool2d/window_mean.h) behind AvgPool2d and AdaptiveAvgPool2d:
// argument checks, then the reference kernels over plane ranges. Registered by binding.cc through
// register_pool_exports.
#include <napi.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "binding_checks.h"
#include "kernels/pool2d/window_mean.h"
#include "ops/parallel.h"

namespace simdnet {
namespace {

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
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.10g", d);
        const std::string shown = std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : buf;
        throw_range(a.env(), a.prefix("divisor") + "[" + std::to_string(y * r.s.ow + x) + "] = " + shown +
                                 " must be finite and non-zero (its window is not empty)");
      }
    }
  }
  return r;
}

// Runs kernel(range) over plane ranges, one per thread when the work is worth it. Each plane is computed
// whole by one call, so results do not depend on the thread count.
template <typename Kernel>
void over_planes(const WindowMeanArgs& r, Kernel&& kernel) {
  double rows = 0, cols = 0;  // pixels summed per plane = (sum of window heights) * (sum of window widths)
  for (int64_t y = 0; y < r.s.oh; ++y) rows += r.s.row_end[y] - r.s.row_start[y];
  for (int64_t x = 0; x < r.s.ow; ++x) cols += r.s.col_end[x] - r.s.col_start[x];
  const double work = static_cast<double>(r.planes) * (rows * cols + static_cast<double>(r.s.oh * r.s.ow));
  parallel_columns(r.planes, 1, work, [&](int64_t begin, int64_t end) { kernel(PlaneRange{begin, end}); });
}

// windowMeanForward(out, input, rowStart, rowEnd, colStart, colEnd, divisor, planes, h, w, oh, ow)
Napi::Value WindowMeanForward(const Napi::CallbackInfo& info) {
  return guarded(info, "windowMeanForward", [&] {
    ArgReader a(info, "windowMeanForward", 12);
    const WindowMeanArgs r = read_window_mean(a, true);
    over_planes(r, [&](PlaneRange range) { window_mean_forward_ref(r.small, r.big, r.s, range); });
    return info.Env().Undefined();
  });
}

// windowMeanBackward(dinput, doutput, rowStart, rowEnd, colStart, colEnd, divisor, planes, h, w, oh, ow):
// accumulates into dinput.
Napi::Value WindowMeanBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "windowMeanBackward", [&] {
    ArgReader a(info, "windowMeanBackward", 12);
    const WindowMeanArgs r = read_window_mean(a, false);
    over_planes(r, [&](PlaneRange range) { window_mean_backward_ref(r.big, r.small, r.s, range); });
    return info.Env().Undefined();
  });
}

}  // namespace

void register_pool_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("windowMeanForward", Napi::Function::New(env, WindowMeanForward, "windowMeanForward"));
  exports.Set("windowMeanBackward", Napi::Function::New(env, WindowMeanBackward, "windowMeanBackward"));
}

}  // namespace simdnet
