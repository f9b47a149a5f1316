// SPDX-License-Identifier: MIT
// Row walks over one image's strided region, shared by the inference programs' pad and slice (program_graph.cc) and
// the training Slice op (slice_op.cc): the same index maths in one place.
#pragma once
#include <cstdint>

namespace simdnet {

constexpr int64_t kStridedMaxRank = 6;  // dims per image (the batch dim excluded)

// Row-major strides of dims[0..rank).
inline void strides_of(const int64_t* dims, int64_t rank, int64_t* strides) {
  int64_t s = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    strides[d] = s;
    s *= dims[d];
  }
}

// Calls fn(src, dst) with the flat input and output offsets of every row of the rank-`rank` region `count` (the last
// dim is the row): input offsets step by in_stride * step per dim from `start`, output rows are contiguous.
template <typename Fn>
void for_each_row(int64_t rank, const int64_t* count, const int64_t* in_stride, const int64_t* start,
                  const int64_t* step, const int64_t* out_stride, Fn&& fn) {
  int64_t idx[kStridedMaxRank] = {0};
  for (;;) {
    int64_t src = 0, dst = 0;
    for (int64_t d = 0; d < rank - 1; ++d) {
      src += (start[d] + idx[d] * step[d]) * in_stride[d];
      dst += idx[d] * out_stride[d];
    }
    fn(src + start[rank - 1] * in_stride[rank - 1], dst);
    int64_t d = rank - 2;
    while (d >= 0 && ++idx[d] == count[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

// A strided slice of one image. dims: [in (rank), start (rank), step (rank), out (rank)], with
// start + (out - 1) * step < in along every dim (the caller checked).
// move(src, dst, row, stride) handles one output row: its `row` values are inputs src, src + stride, ...
template <typename Move>
void for_each_slice_row(int64_t rank, const int64_t* dims, Move&& move) {
  const int64_t *in = dims, *start = in + rank, *step = start + rank, *out = step + rank;
  int64_t si[kStridedMaxRank], so[kStridedMaxRank];
  strides_of(in, rank, si);
  strides_of(out, rank, so);
  const int64_t row = out[rank - 1], stride = step[rank - 1];
  for_each_row(rank, out, si, start, step, so, [&](int64_t src, int64_t dst) { move(src, dst, row, stride); });
}

// y = the slice of x (one image).
inline void slice_image(float* y, const float* x, int64_t rank, const int64_t* dims) {
  for_each_slice_row(rank, dims, [&](int64_t src, int64_t dst, int64_t row, int64_t stride) {
    for (int64_t j = 0; j < row; ++j) y[dst + j] = x[src + j * stride];
  });
}

// dx = the slice's gradient (one image of in_size values): dy at the sliced positions, 0 elsewhere.
inline void unslice_image(float* dx, const float* dy, int64_t rank, const int64_t* dims, int64_t in_size) {
  for (int64_t i = 0; i < in_size; ++i) dx[i] = 0.0f;
  for_each_slice_row(rank, dims, [&](int64_t src, int64_t dst, int64_t row, int64_t stride) {
    for (int64_t j = 0; j < row; ++j) dx[src + j * stride] = dy[dst + j];
  });
}

}  // namespace simdnet
