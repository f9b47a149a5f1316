// SPDX-License-Identifier: MIT
// Builds the kernel table. Only the portable reference exists so far; SIMD variants slot in here,
// chosen widest-first from the CPU's features, with SIMDNET_ISA to force one.
#include "dispatch.h"

namespace simdnet {

namespace {

KernelTable reference_table() {
  KernelTable t{};
  t.isa = "ref";
  t.conv2d_forward = conv2d_forward_ref;
  t.conv2d_backward = conv2d_backward_ref;
  t.maxpool2d_forward = maxpool2d_forward_ref;
  t.maxpool2d_backward = maxpool2d_backward_ref;
  t.dense_forward = dense_forward_ref;
  t.dense_backward = dense_backward_ref;
  t.relu_forward = relu_forward_ref;
  t.relu_backward = relu_backward_ref;
  t.cross_entropy_forward = cross_entropy_forward_ref;
  t.cross_entropy_backward = cross_entropy_backward_ref;
  t.adam_step = adam_step_ref;
  return t;
}

}  // namespace

const KernelTable& kernels() {
  static const KernelTable table = reference_table();
  return table;
}

}  // namespace simdnet
