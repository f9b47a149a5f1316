// SPDX-License-Identifier: MIT
// The training graph's strided Slice (ResNet's option-A shortcut x[:, :, ::2, ::2], ONNX Slice): images across
// threads. In JavaScript it ran on the calling thread with the other threads idle, about 2% of a ResNet-20 step.
#include "ops.h"
#include "parallel.h"
#include "strided_rows.h"

namespace simdnet {
namespace {

// Runs fn(image) for every image, across threads when the copy is worth a fork.
template <typename Fn>
void over_images(int64_t images, int64_t values_per_image, Fn&& fn) {
  // A strided copy moves a value in about the time of 4 peak flops.
  const double work = 4.0 * static_cast<double>(images) * static_cast<double>(values_per_image);
  parallel_columns(images, 1, work, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) fn(i);
  });
}

}  // namespace

void slice_forward_op(float* out, const float* inp, int64_t images, int64_t rank, const int64_t* dims, int64_t in_size,
                      int64_t out_size) {
  over_images(images, out_size, [&](int64_t i) { slice_image(out + i * out_size, inp + i * in_size, rank, dims); });
}

void slice_backward_op(float* dinp, const float* dout, int64_t images, int64_t rank, const int64_t* dims,
                       int64_t in_size, int64_t out_size) {
  over_images(images, in_size,
              [&](int64_t i) { unslice_image(dinp + i * in_size, dout + i * out_size, rank, dims, in_size); });
}

}  // namespace simdnet
