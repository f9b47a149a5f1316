// SPDX-License-Identifier: MIT
// Upsample kernels (through the current table's ops) against a naive reference: each axis's interpolation as a dense
// [out x in] matrix A built from the per-axis taps, forward = A_h X A_w^T and backward = A_h^T G A_w in double.
// Also the adjoint identity <forward(x), g> = <x, backward(g)>, on sizes that hit every special case (out == in,
// out == 2 in, out 1, shrinking, fractional scales, align_corners).
#include <string>
#include <vector>

#include "check.h"
#include "dispatch.h"
#include "ops/upsample_op.h"

namespace simdnet::test {
namespace {

// A [out x in]: the weight each output index gives each input index of one axis.
std::vector<double> axis_matrix(int64_t in, int64_t out, const UpsampleShape& s, bool rows) {
  const double scale = rows ? s.scale_h : s.scale_w;
  std::vector<double> a(static_cast<size_t>(out * in), 0.0);
  for (int64_t o = 0; o < out; ++o) {
    if (!s.bilinear) {
      a[o * in + upsample_nearest_index(o, in, out, scale)] = 1.0;
    } else {
      const LinearTap t = upsample_linear_tap(o, in, out, s.align_corners, scale);
      a[o * in + t.i0] += t.l0;
      a[o * in + t.i1] += t.l1;
    }
  }
  return a;
}

void check_upsample(Tally& t, Rng& rng, const std::string& name, UpsampleShape s, int64_t planes) {
  const std::vector<double> ah = axis_matrix(s.h, s.oh, s, true), aw = axis_matrix(s.w, s.ow, s, false);
  const std::vector<float> x = rng.floats(planes * s.h * s.w), g = rng.floats(planes * s.oh * s.ow);
  std::vector<float> want_y(g.size()), want_dx(x.size());
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t o = 0; o < s.oh; ++o)
      for (int64_t q = 0; q < s.ow; ++q) {
        double acc = 0;
        for (int64_t i = 0; i < s.h; ++i)
          for (int64_t j = 0; j < s.w; ++j) acc += ah[o * s.h + i] * aw[q * s.w + j] * x[(p * s.h + i) * s.w + j];
        want_y[(p * s.oh + o) * s.ow + q] = static_cast<float>(acc);
      }
    for (int64_t i = 0; i < s.h; ++i)
      for (int64_t j = 0; j < s.w; ++j) {
        double acc = 0;
        for (int64_t o = 0; o < s.oh; ++o)
          for (int64_t q = 0; q < s.ow; ++q) acc += ah[o * s.h + i] * aw[q * s.w + j] * g[(p * s.oh + o) * s.ow + q];
        want_dx[(p * s.h + i) * s.w + j] = static_cast<float>(acc);
      }
  }
  std::vector<float> y(g.size()), dx(x.size(), 0.0f);
  upsample2d_forward_op(y.data(), x.data(), s, planes);
  upsample2d_backward_op(dx.data(), g.data(), s, planes);
  t.close("upsample forward " + name, y, want_y, 1e-6, 1e-5);
  t.close("upsample backward " + name, dx, want_dx, 1e-5, 1e-5);
  // Backward accumulates: a second call doubles dinput.
  std::vector<float> twice(dx), doubled(dx.size());
  upsample2d_backward_op(twice.data(), g.data(), s, planes);
  for (size_t i = 0; i < dx.size(); ++i) doubled[i] = 2 * dx[i];
  t.close("upsample backward accumulates " + name, twice, doubled, 1e-6, 1e-6);
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < y.size(); ++i) lhs += static_cast<double>(y[i]) * g[i];
  for (size_t i = 0; i < x.size(); ++i) rhs += static_cast<double>(x[i]) * dx[i];
  t.truth("upsample adjoint " + name, std::fabs(lhs - rhs) <= 1e-4 * (1 + std::fabs(lhs)));
}

}  // namespace

void test_upsample(Tally& t, int64_t lanes) {
  Rng rng(11);
  const int64_t wide = 2 * lanes + 1;
  for (bool bilinear : {false, true}) {
    for (bool align : {false, true}) {
      if (align && !bilinear) continue;
      const std::string mode = bilinear ? (align ? "bilinear align" : "bilinear") : "nearest";
      // {h, w, oh, ow, bilinear, align, scale_h, scale_w}
      check_upsample(t, rng, mode + " x2", {4, wide, 8, 2 * wide, bilinear, align, 0, 0}, 3);
      check_upsample(t, rng, mode + " same size", {5, 3, 5, 3, bilinear, align, 0, 0}, 2);
      check_upsample(t, rng, mode + " odd sizes", {5, 4, 7, 3, bilinear, align, 0, 0}, 2);
      check_upsample(t, rng, mode + " to 1", {3, 4, 1, 1, bilinear, align, 0, 0}, 2);
      check_upsample(t, rng, mode + " from 1", {1, 1, 3, 5, bilinear, align, 0, 0}, 2);
      check_upsample(t, rng, mode + " scale 1.7", {5, 6, 8, 10, bilinear, align, 1.7, 1.7}, 2);
      check_upsample(t, rng, mode + " scale 0.6 x 2.5", {6, 3, 3, 7, bilinear, align, 0.6, 2.5}, 1);
    }
  }
}

}  // namespace simdnet::test
