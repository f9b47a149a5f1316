// SPDX-License-Identifier: MIT
// The 2x2 / stride-2 max pool of the current table (pool2d_<isa>.cc, through maxpool2d_forward_op) against
// maxpool2d_forward_ref bit for bit: every width 2..40 (and a few past 64) with even and odd heights and widths (the
// last row or column ignored), one plane and many, LeNet's shapes; values, ties, NaNs of several payloads and signed
// zeros, with and without argmax; and every window of four values drawn from those special values.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "dispatch.h"
#include "ops/ops.h"

namespace simdnet::test {
namespace {

// NaNs with distinct payloads (the last NaN of a window must win, as its own bits), zeros of both signs, infinities.
std::vector<float> special_values() {
  std::vector<float> v{0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY};
  for (uint32_t bits : {0x7fc00000u, 0x7fc00001u, 0xffc00002u}) {
    float nan;
    std::memcpy(&nan, &bits, sizeof nan);
    v.push_back(nan);
  }
  return v;
}

// Shape [n, c, h, w] of the 2x2 / stride-2 pool (floor mode).
Pool2dShape shape_2x2(int64_t n, int64_t c, int64_t h, int64_t w) {
  return {n, c, h, w, 2, 2, 2, 2, 0, 0, 1, 1, h / 2, w / 2};
}

void check_same(Tally& t, const std::string& at, const std::vector<float>& x, const Pool2dShape& s) {
  const int64_t out_n = s.n * s.c * s.oh * s.ow;
  std::vector<float> got(out_n), values(out_n), want(out_n);
  std::vector<int32_t> arg(out_n), arg_ref(out_n);
  maxpool2d_forward_ref(want.data(), arg_ref.data(), x.data(), s);
  maxpool2d_forward_op(got.data(), arg.data(), x.data(), s);
  maxpool2d_forward_op(values.data(), nullptr, x.data(), s);
  t.same_bits(at + " values", got, want);
  t.same_ints(at + " argmax", arg, arg_ref);
  t.same_bits(at + " values without argmax", values, want);
}

}  // namespace

void test_maxpool_2x2(Tally& t) {
  Rng rng(20);
  const std::vector<float> special = special_values();
  const auto pick_special = [&] { return special[rng.below(static_cast<int32_t>(special.size()))]; };
  std::vector<int64_t> widths;
  for (int64_t w = 2; w <= 40; ++w) widths.push_back(w);
  for (int64_t w : {63, 64, 65, 66}) widths.push_back(w);
  for (int64_t w : widths) {
    for (int64_t h : {2, 3, 6, 7}) {
      for (int64_t planes : {1, 5}) {
        const Pool2dShape s = shape_2x2(1, planes, h, w);
        const std::string at =
            "maxpool2d 2x2 [" + std::to_string(planes) + "x" + std::to_string(h) + "x" + std::to_string(w) + "]";
        std::vector<float> x = rng.floats(planes * h * w);
        for (size_t i = 0; i < x.size(); i += 5) x[i] = x[i / 2];  // ties
        check_same(t, at + " random", x, s);
        for (float& v : x) v = pick_special();
        check_same(t, at + " NaN, zeros, infinities", x, s);
      }
    }
  }
  // LeNet's pools at batch 3 (28x28 -> 14x14, 10x10 -> 5x5), special values among random ones.
  for (const Pool2dShape& s : {shape_2x2(3, 6, 28, 28), shape_2x2(3, 16, 10, 10)}) {
    std::vector<float> x = rng.floats(s.n * s.c * s.h * s.w);
    for (size_t i = 0; i < x.size(); i += 3) x[i] = pick_special();
    check_same(t, "maxpool2d 2x2 LeNet [" + std::to_string(s.h) + "x" + std::to_string(s.w) + "]", x, s);
  }
  // Every window of four special values, in every position of rows of several widths (the flat and row paths).
  const int64_t k = static_cast<int64_t>(special.size()), windows = k * k * k * k;
  for (int64_t ow : {1, 3, 5, 8, 14, 17}) {
    const int64_t rows = (windows + ow - 1) / ow;
    const Pool2dShape s = shape_2x2(1, rows, 2, 2 * ow);
    std::vector<float> x(rows * 4 * ow, 0.0f);
    for (int64_t i = 0; i < windows; ++i) {
      float* r0 = &x[(i / ow) * 4 * ow + 2 * (i % ow)];
      r0[0] = special[i % k];
      r0[1] = special[i / k % k];
      r0[2 * ow] = special[i / (k * k) % k];
      r0[2 * ow + 1] = special[i / (k * k * k)];
    }
    check_same(t, "maxpool2d 2x2 every window of special values, " + std::to_string(ow) + " per row", x, s);
  }
}

}  // namespace simdnet::test
