// SPDX-License-Identifier: MIT
// The kernel table: one function pointer per kernel, chosen once when the addon loads.
#pragma once
#include "kernels/activation/activation.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/dense/dense.h"
#include "kernels/loss/loss.h"
#include "kernels/optim/optim.h"
#include "kernels/pool2d/pool2d.h"

namespace simdnet {

struct KernelTable {
  const char* isa;  // the instruction set the table was built for: "ref" today
  decltype(&conv2d_forward_ref) conv2d_forward;
  decltype(&conv2d_backward_ref) conv2d_backward;
  decltype(&maxpool2d_forward_ref) maxpool2d_forward;
  decltype(&maxpool2d_backward_ref) maxpool2d_backward;
  decltype(&dense_forward_ref) dense_forward;
  decltype(&dense_backward_ref) dense_backward;
  decltype(&relu_forward_ref) relu_forward;
  decltype(&relu_backward_ref) relu_backward;
  decltype(&cross_entropy_forward_ref) cross_entropy_forward;
  decltype(&cross_entropy_backward_ref) cross_entropy_backward;
  decltype(&adam_step_ref) adam_step;
};

// The table for this process (thread-safe, built on first use).
const KernelTable& kernels();

}  // namespace simdnet
