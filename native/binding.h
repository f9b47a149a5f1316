// SPDX-License-Identifier: MIT
// One register function per binding family: binding.cc calls them all, each binding_<family>.cc
// defines one (its exports validate every argument, then call native/ops).
#pragma once
#include <napi.h>

namespace simdnet {

void register_conv_exports(Napi::Env env, Napi::Object exports);        // binding_conv.cc: conv2d
void register_pool_exports(Napi::Env env, Napi::Object exports);        // binding_pool.cc: max pool, window means
void register_dense_exports(Napi::Env env, Napi::Object exports);       // binding_dense.cc: linear
void register_norm_exports(Napi::Env env, Napi::Object exports);        // binding_norm.cc: batch norm
void register_activation_exports(Napi::Env env, Napi::Object exports);  // binding_activation.cc: ReLU
void register_loss_exports(Napi::Env env, Napi::Object exports);        // binding_loss.cc: cross-entropy
void register_optim_exports(Napi::Env env, Napi::Object exports);       // binding_optim.cc: Adam
void register_program_exports(Napi::Env env, Napi::Object exports);     // binding_program.cc: inference programs
void register_runtime_exports(Napi::Env env, Napi::Object exports);     // binding_runtime.cc: ISA, threads, stats

// binding_conv_transpose.cc: ConvTranspose2d's forward (the conv2d input gradient).
void register_conv_transpose_exports(Napi::Env env, Napi::Object exports);
// binding_upsample.cc: nearest and bilinear upsampling.
void register_upsample_exports(Napi::Env env, Napi::Object exports);
// binding_slice.cc: the training graph's strided Slice.
void register_slice_exports(Napi::Env env, Napi::Object exports);
// binding_image.cc: inflated PNG rows to planar floats (the serving decode).
void register_image_exports(Napi::Env env, Napi::Object exports);

}  // namespace simdnet
