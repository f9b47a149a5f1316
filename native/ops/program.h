// SPDX-License-Identifier: MIT
// Inference programs: a Sequential model (conv2d, max and average pool, linear, relu) run as one native call,
// for low latency at small batches and for running off the JS thread.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dispatch.h"
#include "kernels/pool2d/window_mean.h"

namespace simdnet {

// Descriptor layout (int32): op code, then that op's fields, repeated. Sizes are per image.
//   kOpConv    c h w oc kh kw sh sw ph pw dh dw groups relu weight bias    (bias = -1: none)
//   kOpMaxPool c h w kh kw sh sw ph pw dh dw ceil
//   kOpLinear  in out relu weight bias
//   kOpRelu    count
//   kOpAvgPool c h w oh ow row_start[oh] row_end[oh] col_start[ow] col_end[ow] divisor[oh*ow]
//              (any windows, as kernels/pool2d/window_mean.h: AvgPool2d and AdaptiveAvgPool2d;
//              integer divisors, > 0 where the window is not empty)
// weight/bias index the list of parameter arrays passed with the program.
enum ProgramOpCode : int32_t { kOpConv = 1, kOpMaxPool = 2, kOpLinear = 3, kOpRelu = 4, kOpAvgPool = 5 };

struct ProgramOp {
  ProgramOpCode code;
  Conv2dShape conv;  // n is set per run
  Pool2dShape pool;
  DenseShape dense;
  bool relu;
  int32_t weight, bias;
  int64_t in_size, out_size;  // floats per image
  // kOpAvgPool: sizes in `pool` (c, h, w, oh, ow), the windows (row starts, row ends, column
  // starts, column ends, concatenated) and the divisors.
  std::vector<int32_t> windows;
  std::vector<double> divisor;
};

struct Program {
  std::vector<ProgramOp> ops;
  int64_t in_size = 0, out_size = 0, max_size = 0;  // floats per image
};

// Parses and checks a descriptor against the parameter lengths. Returns "" or what is wrong.
std::string parse_program(const int32_t* code, int64_t length, const std::vector<int64_t>& param_lengths,
                          Program* program);

// Runs the program on n images: output [n, out_size] from input [n, in_size].
void run_program(const Program& program, int64_t n, const float* input, float* output,
                 const std::vector<const float*>& params);

}  // namespace simdnet
