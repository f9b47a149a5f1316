// SPDX-License-Identifier: MIT
// The linear (dense) ops on the current ISA's GEMMs against dense_forward_ref / dense_backward_ref,
// and the max-pooling ops (the 2x2 / stride-2 kernel and the general one, with and without argmax; the backward also
// overwriting and through a ReLU) against the references.
#include <string>
#include <vector>

#include "check.h"
#include "dispatch.h"
#include "ops/ops.h"

namespace simdnet::test {
namespace {

void check_dense(Tally& t, Rng& rng, int64_t batch, int64_t in, int64_t out) {
  const DenseShape s{batch, in, out};
  const std::string at =
      "linear batch=" + std::to_string(batch) + " in=" + std::to_string(in) + " out=" + std::to_string(out);
  const std::vector<float> x = rng.floats(batch * in), w = rng.floats(out * in), b = rng.floats(out);
  std::vector<float> got(batch * out), want(batch * out);
  dense_forward_op(got.data(), x.data(), w.data(), b.data(), s);
  dense_forward_ref(want.data(), x.data(), w.data(), b.data(), s);
  t.close(at + " forward", got, want, 2e-6 * double(in) + 1e-6, 1e-5);
  // The ReLU fused into the forward: the same bits as the ReLU after it.
  std::vector<float> fused(batch * out), relu_after = got;
  dense_forward_op(fused.data(), x.data(), w.data(), b.data(), s, true);
  for (float& v : relu_after) v = v < 0.0f ? 0.0f : v;
  t.same(at + " forward with ReLU", fused, relu_after);

  const std::vector<float> dout = rng.floats(batch * out);
  std::vector<float> dx = rng.floats(batch * in), dw = rng.floats(out * in), db = rng.floats(out);
  std::vector<float> dx_ref = dx, dw_ref = dw, db_ref = db;
  dense_backward_op(dx.data(), dw.data(), db.data(), dout.data(), x.data(), w.data(), s);
  dense_backward_ref(dx_ref.data(), dw_ref.data(), db_ref.data(), dout.data(), x.data(), w.data(), s);
  const double atol = 2e-6 * double(batch + out) + 1e-6;
  t.close(at + " dinput", dx, dx_ref, atol, 1e-5);
  t.close(at + " dweight", dw, dw_ref, atol, 1e-5);
  t.close(at + " dbias", db, db_ref, atol, 1e-5);
}

void check_pool(Tally& t, Rng& rng, const std::string& name, Pool2dShape s, bool ceil_mode) {
  s.oh = pool_output_size(s.h, s.kh, s.sh, s.ph, s.dh, ceil_mode);
  s.ow = pool_output_size(s.w, s.kw, s.sw, s.pw, s.dw, ceil_mode);
  const std::string at = "maxpool2d " + name + " [" + std::to_string(s.h) + "x" + std::to_string(s.w) + "]";
  const int64_t in_n = s.n * s.c * s.h * s.w, out_n = s.n * s.c * s.oh * s.ow;
  std::vector<float> x = rng.floats(in_n);
  for (int64_t i = 0; i < in_n; i += 7) x[i] = x[i / 2];  // ties: the first maximum must win
  std::vector<float> got(out_n), want(out_n);
  std::vector<int32_t> arg(out_n), arg_ref(out_n);
  maxpool2d_forward_op(got.data(), arg.data(), x.data(), s);
  maxpool2d_forward_ref(want.data(), arg_ref.data(), x.data(), s);
  t.same(at + " forward", got, want);
  t.same_ints(at + " argmax", arg, arg_ref);
  std::vector<float> values(out_n);  // the inference programs' variant: no argmax
  maxpool2d_forward_op(values.data(), nullptr, x.data(), s);
  t.same(at + " forward without argmax", values, want);

  const std::vector<float> dout = rng.floats(out_n);
  std::vector<float> dx = rng.floats(in_n);
  std::vector<float> dx_ref = dx;
  maxpool2d_backward_op(dx.data(), dout.data(), arg.data(), s);
  maxpool2d_backward_ref(dx_ref.data(), dout.data(), arg_ref.data(), s);
  t.close(at + " backward", dx, dx_ref, 1e-6, 1e-6);

  // Overwriting dinput, with the ReLU before the pool (x as its output, zeros and negatives included): the reference
  // backward into zeros, then relu_mask's rule, bit for bit.
  std::vector<float> relu_out = x;
  for (int64_t i = 0; i < in_n; i += 3) relu_out[i] = i % 2 == 0 ? 0.0f : -relu_out[i];
  std::vector<float> dz(in_n, 7.0f), dz_ref(in_n, 0.0f);
  maxpool2d_backward_op(dz.data(), dout.data(), arg.data(), s, false, relu_out.data());
  maxpool2d_backward_ref(dz_ref.data(), dout.data(), arg_ref.data(), s);
  for (int64_t i = 0; i < in_n; ++i) dz_ref[i] = relu_out[i] <= 0.0f ? 0.0f : dz_ref[i];
  t.same(at + " backward through a ReLU, overwriting", dz, dz_ref);
}

}  // namespace

void test_dense_pool(Tally& t, int64_t lanes) {
  Rng rng(4);
  for (int64_t batch : {1, 3, 17}) {
    for (int64_t in : {int64_t{1}, int64_t{5}, lanes + 1, int64_t{120}}) {
      for (int64_t out : {int64_t{1}, lanes - 1, lanes, lanes + 1, int64_t{10}, int64_t{84}}) {
        if (out >= 1) check_dense(t, rng, batch, in, out);
      }
    }
  }
  check_dense(t, rng, 64, 400, 120);  // LeNet fc1
  for (int64_t w : {int64_t{2}, int64_t{5}, int64_t{14}, int64_t{28}, 2 * lanes + 1, 2 * lanes + 2}) {
    check_pool(t, rng, "2x2 stride 2", {2, 3, w + 1, w, 2, 2, 2, 2, 0, 0, 1, 1, 0, 0}, false);
    check_pool(t, rng, "3x3 stride 2 padding 1 ceil", {1, 2, w, w + 3, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0}, true);
  }
  check_pool(t, rng, "2x2 dilation 2", {1, 2, 9, 8, 2, 2, 1, 1, 0, 0, 2, 2, 0, 0}, false);
}

}  // namespace simdnet::test
