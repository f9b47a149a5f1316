// SPDX-License-Identifier: MIT
// N-API surface of the training graph's strided Slice: the slice's dims checked (every read inside its image), then
// ops/slice_op.cc. Registered by binding.cc through register_slice_exports.
#include <napi.h>

#include <cmath>
#include <string>

#include "binding.h"
#include "binding_checks.h"
#include "ops/ops.h"
#include "ops/strided_rows.h"

namespace simdnet {
namespace {

struct SliceArgs {
  int64_t images = 0, rank = 0, in_size = 1, out_size = 1;
  int64_t dims[4 * kStridedMaxRank] = {};
};

// Positions 2..4: images, rank, dims (a Float64Array [in, start, step, out] of rank values each, per image).
SliceArgs read_slice(ArgReader& a) {
  SliceArgs r;
  r.images = a.size(2, "images");
  r.rank = a.size(3, "rank");
  if (r.rank > kStridedMaxRank)
    throw_range(a.env(), a.prefix("rank") + " must be at most " + std::to_string(kStridedMaxRank) + ", got " +
                             std::to_string(r.rank));
  const double* dims = a.f64(4, "dims", 4 * r.rank, "4*rank", false);
  static const char* const kField[] = {"in", "start", "step", "out"};
  for (int64_t k = 0; k < 4 * r.rank; ++k) {
    const double d = dims[k];
    const int64_t min = k / r.rank == 1 ? 0 : 1;  // starts may be 0; dims and steps at least 1
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(kMaxElements))
      throw_range(a.env(), a.prefix("dims") + " " + kField[k / r.rank] + "[" + std::to_string(k % r.rank) +
                               "] must be an integer >= " + std::to_string(min) + ", got " + format_number(d));
    r.dims[k] = static_cast<int64_t>(d);
  }
  const int64_t *in = r.dims, *start = in + r.rank, *step = start + r.rank, *out = step + r.rank;
  for (int64_t d = 0; d < r.rank; ++d) {
    // start + (out - 1) * step < in, without overflow (all are <= kMaxElements).
    if (start[d] >= in[d] || (out[d] - 1) > (in[d] - 1 - start[d]) / step[d])
      throw_range(a.env(), a.prefix("dims") + " dim " + std::to_string(d) + " reads past its input (start " +
                               std::to_string(start[d]) + ", step " + std::to_string(step[d]) + ", out " +
                               std::to_string(out[d]) + ", in " + std::to_string(in[d]) + ")");
    r.in_size = a.mul(r.in_size, in[d], "input");
    r.out_size = a.mul(r.out_size, out[d], "output");
  }
  a.mul(r.images, r.in_size, "input");
  a.mul(r.images, r.out_size, "output");
  return r;
}

// sliceForward(out, input, images, rank, dims): out [images, out...] = the strided slice of input [images, in...].
// sliceBackward(dinput, doutput, images, rank, dims): dinput = doutput at the sliced positions, 0 elsewhere.
// The same checks; the backward's destination is the slice's input.
Napi::Value slice_call(const Napi::CallbackInfo& info, const char* op, bool backward) {
  return guarded(info, op, [&] {
    ArgReader a(info, op, 5);
    const SliceArgs r = read_slice(a);
    const int64_t in = r.images * r.in_size, out = r.images * r.out_size;
    float* dst = backward ? a.f32_overwritten(0, "dinput", in, "images*prod(in)")
                          : a.f32_overwritten(0, "out", out, "images*prod(out)");
    const float* src = backward ? a.f32(1, "doutput", out, "images*prod(out)", false)
                                : a.f32(1, "input", in, "images*prod(in)", false);
    a.check_no_aliasing();
    (backward ? slice_backward_op : slice_forward_op)(dst, src, r.images, r.rank, r.dims, r.in_size, r.out_size);
    return info.Env().Undefined();
  });
}

Napi::Value SliceForward(const Napi::CallbackInfo& info) { return slice_call(info, "sliceForward", false); }
Napi::Value SliceBackward(const Napi::CallbackInfo& info) { return slice_call(info, "sliceBackward", true); }

}  // namespace

void register_slice_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("sliceForward", Napi::Function::New(env, SliceForward, "sliceForward"));
  exports.Set("sliceBackward", Napi::Function::New(env, SliceBackward, "sliceBackward"));
}

}  // namespace simdnet
