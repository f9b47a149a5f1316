// SPDX-License-Identifier: MIT
// The kernel table: one function pointer per kernel for the chosen instruction set (ISA).
// Chosen once at load (widest the CPU supports, or SIMDNET_ISA), switchable for tests.
#pragma once
#include <string>
#include <vector>

#include "kernels/activation/activation.h"
#include "kernels/batchnorm/batchnorm.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/conv2d_direct.h"
#include "kernels/dense/dense.h"
#include "kernels/gemm/gemm.h"
#include "kernels/loss/loss.h"
#include "kernels/optim/optim.h"
#include "kernels/pool2d/pool2d.h"
#include "kernels/pool2d/window_mean.h"
#include "kernels/upsample/upsample.h"

namespace simdnet {

struct KernelTable {
  const char* isa;  // "ref", "avx2", "avx512", "neon" or "simd128" (WebAssembly)
  // ref runs the direct scalar kernels below for conv2d and linear; the others run them as GEMMs.
  bool use_gemm;
  decltype(&sgemm_ref) sgemm;
  decltype(&sgemm_nt_ref) sgemm_nt;
  int64_t vec_lanes;  // floats per vector (1 for ref)
  // Direct stride-1 conv kernels; null for ref.
  void (*conv2d_direct_forward)(const DirectConvArgs&);
  void (*conv2d_direct_dweight)(const DirectDweightArgs&);
  void (*conv2d_channel_forward)(const ChannelConvArgs&);
  void (*conv2d_channel_dweight)(const ChannelDweightArgs&);
  void (*conv2d_winograd_forward)(const WinogradArgs&);
  void (*conv2d_winograd_dweight)(const WinogradDweightArgs&);
  decltype(&conv2d_forward_ref) conv2d_forward;
  decltype(&conv2d_backward_ref) conv2d_backward;
  decltype(&maxpool2d_forward_ref) maxpool2d_forward;
  decltype(&maxpool2d_forward_ref) maxpool2d_2x2_forward;  // 2x2 / stride 2 only (pool2d_<isa>.cc); null for ref
  decltype(&maxpool2d_backward_ref) maxpool2d_backward;
  decltype(&maxpool2d_relu_backward_ref) maxpool2d_relu_backward;
  decltype(&window_mean_forward_ref) window_mean_forward;
  decltype(&window_mean_backward_ref) window_mean_backward;
  decltype(&upsample2d_forward_ref) upsample2d_forward;
  decltype(&upsample2d_backward_ref) upsample2d_backward;
  decltype(&dense_forward_ref) dense_forward;
  decltype(&dense_backward_ref) dense_backward;
  decltype(&relu_forward_ref) relu_forward;
  decltype(&relu_backward_ref) relu_backward;
  decltype(&relu_mask_ref) relu_mask;
  decltype(&cross_entropy_forward_ref) cross_entropy_forward;
  decltype(&cross_entropy_backward_ref) cross_entropy_backward;
  decltype(&adam_step_ref) adam_step;
  decltype(&batchnorm_forward_train_ref) batchnorm_forward_train;
  decltype(&batchnorm_forward_eval_ref) batchnorm_forward_eval;
  decltype(&batchnorm_backward_train_ref) batchnorm_backward_train;
  decltype(&batchnorm_backward_eval_ref) batchnorm_backward_eval;
};

// One op of a table as kernelInfo() reports it: its name in JavaScript (the prefix of its exports,
// e.g. "batchNorm" for batchNormForwardTrain) and where its kernels come from: "ref", the table's
// ISA, or "baseline" (built with the compiler's default flags, used by every SIMD table).
struct OpVariant {
  const char* op;
  const char* variant;
};

// Every op of table t, read from its kernel pointers.
std::vector<OpVariant> op_variants(const KernelTable& t);

// The current table (never null).
const KernelTable& kernels();

// ISAs this build has and this CPU runs, widest last (always starts with "ref").
std::vector<std::string> supported_isas();

// Switches to `name` ("auto" = the widest supported). Returns false (and changes nothing) when
// the name is unknown or the CPU/build cannot run it.
bool set_isa(const std::string& name);

}  // namespace simdnet
