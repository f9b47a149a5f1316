// SPDX-License-Identifier: MIT
// Inference programs: a model (conv2d, max and average pool, linear, relu, sigmoid; graph values kept in slots and
// combined by add, mul, concat, pad, slice, clamp) run as one native call, for low latency at small batches and for
// running off the JS thread.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dispatch.h"
#include "kernels/pool2d/window_mean.h"
#include "strided_rows.h"

namespace simdnet {

// Descriptor layout (int32): op code, then that op's fields, repeated. Sizes are per image. Each op reads the current
// value (the previous op's output; the program input at the start) and its output becomes the current value.
//   kOpConv    c h w oc kh kw sh sw ph pw dh dw groups relu weight bias    (bias = -1: none)
//   kOpMaxPool c h w kh kw sh sw ph pw dh dw ceil
//   kOpConvAdd the fields of kOpConv, then  slot rc rh rw c0 y0 x0 sc sy sx before count
//              a conv with a residual added before its ReLU (relu: after the add): output channel o in
//              [before, before + count) adds channel c0 + (o - before) * sc, row y0 + oy * sy, column x0 + ox * sx of
//              the value [rc, rh, rw] in `slot` (-1: the conv's own input); other channels add 0. Covers an add of
//              the conv's output and a value, and of a slice and zero channel padding of one (ResNet's shortcut A).
//   kOpConvTranspose c h w oc kh kw sh sw ph pw oh ow dh dw groups weight bias
//              ConvTranspose2d [c, h, w] -> [oc, oh, ow], weight [c, oc/groups, kh, kw]; the Conv2d of these sizes
//              must map oh x ow back to h x w (conv_transpose2d_op.h)
//   kOpUpsample c h w oh ow bilinear align_corners   (kernels/upsample/upsample.h, source ratios from the sizes)
//   kOpLinear  in out relu weight bias
//   kOpRelu    count
//   kOpAvgPool c h w oh ow row_start[oh] row_end[oh] col_start[ow] col_end[ow] divisor[oh*ow]
//              (any windows, as kernels/pool2d/window_mean.h: AvgPool2d and AdaptiveAvgPool2d;
//              integer divisors, > 0 where the window is not empty)
// Graph values (program_graph.cc): slots hold values that are read again later.
//   kOpSave    slot count              copies the current value (count values) into slot; it stays current
//   kOpLoad    slot count              the slot's value (count values) becomes current
//   kOpBinary  kind relu slot rank out[rank] x[rank] other[rank]
//              y = x (kind 0: +, 1: *) slot, each broadcast to out (every dim equal or 1); then max(y, 0) if relu
//   kOpConcat  count outer (operand inner)[count]   joins the operands' blocks of `inner` values, `outer` times;
//              operand: a slot, or -1 for the current value (at most once)
//   kOpPad     rank in[rank] before[rank] after[rank] value   constant padding; value: a parameter of 1 float
//   kOpSlice   rank in[rank] start[rank] step[rank] out[rank]  out[d] values from start[d] every step[d]
//   kOpSigmoid count
//   kOpClamp   count bounds           min(max(x, lo), hi); bounds: a parameter of 2 floats [lo, hi]
// weight/bias/value/bounds index the list of parameter arrays passed with the program.
enum ProgramOpCode : int32_t {
  kOpConv = 1,
  kOpMaxPool = 2,
  kOpLinear = 3,
  kOpRelu = 4,
  kOpAvgPool = 5,
  kOpSave = 6,
  kOpLoad = 7,
  kOpBinary = 8,
  kOpConcat = 9,
  kOpPad = 10,
  kOpSlice = 11,
  kOpSigmoid = 12,
  kOpClamp = 13,
  kOpConvTranspose = 14,
  kOpUpsample = 15,
  kOpConvAdd = 16,
};

// The most dims of the shape-generic ops (binary, pad, slice), and the most slots and concat operands.
constexpr int64_t kProgramMaxRank = kStridedMaxRank;
constexpr int64_t kProgramMaxSlots = 4096;

struct ProgramOp {
  ProgramOpCode code;
  Conv2dShape conv;  // n is set per run
  Pool2dShape pool;
  UpsampleShape upsample;  // kOpUpsample; its channels in pool.c
  DenseShape dense;
  bool relu;
  int32_t weight, bias;
  int64_t in_size, out_size;  // floats per image
  // kOpAvgPool: sizes in `pool` (c, h, w, oh, ow), the windows (row starts, row ends, column
  // starts, column ends, concatenated) and the divisors.
  std::vector<int32_t> windows;
  std::vector<double> divisor;
  // kOpConvAdd: the residual's slot (-1: the conv's input) and its fields rc .. count in dims.
  // Graph ops: the slot (save, load, binary), kOpBinary's kind, kOpConcat's outer count and operands, the dims of
  // binary (out, x, other), pad (in, before, after) and slice (in, start, step, out), and the parameter (pad, clamp).
  int32_t slot = -1, kind = 0, rank = 0, param = -1;
  int64_t outer = 0;
  std::vector<int32_t> operands;
  std::vector<int64_t> inner, dims;
};

struct Program {
  std::vector<ProgramOp> ops;
  int64_t in_size = 0, out_size = 0, max_size = 0;  // floats per image
  // Where each slot starts in the slot memory, and the slot memory's size (floats per image).
  std::vector<int64_t> slot_offset;
  int64_t slot_size = 0;
  // The most images per chunk when a batch runs chunk by chunk (run_program: fewer to make 8 chunks, at least 2).
  int64_t chunk_images = 2;
  // Floating-point operations per image (multiply-adds count 2, other ops one per output value): run_program runs a
  // batch with too few of them on one thread.
  double flops_per_image = 0;
};

// Parses and checks a descriptor against the parameter lengths. Returns "" or what is wrong.
std::string parse_program(const int32_t* code, int64_t length, const std::vector<int64_t>& param_lengths,
                          Program* program);

class ConvPackCache;

// A check that a run's weights are still current, made of `items` pieces that the run's threads share: same(i) is
// false when piece i differs (a snapshot's copy against the live arrays it was copied from).
struct WeightCheck {
  int64_t items = 0;
  std::function<bool(int64_t)> same;
};

// Runs the program on n images: output [n, out_size] from input [n, in_size]. A batch of two chunks or more
// (chunk_images) runs chunk by chunk, each chunk on one thread; the results are the same. With a cache (params must
// not change while it lives: a snapshot's), convs pack their weights once per layout instead of per run. With a
// check, the run's threads make it first; when it fails nothing runs and the result is false.
bool run_program(const Program& program, int64_t n, const float* input, float* output,
                 const std::vector<const float*>& params, ConvPackCache* cache = nullptr,
                 const WeightCheck* check = nullptr);

}  // namespace simdnet
