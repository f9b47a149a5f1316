// SPDX-License-Identifier: MIT
// ReLU (forward, backward, in-place mask, fused add + ReLU), softmax cross-entropy, Adam and batch norm of the current
// ISA against the scalar references, on counts around the vector width (the SIMD main loop and its scalar tail).
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "dispatch.h"
#include "ops/ops.h"

namespace simdnet::test {
namespace {

std::vector<int64_t> counts(int64_t lanes) {
  std::vector<int64_t> v{0, 1, 2, 3, 7, 13, 1000, 4099};
  for (int64_t m : {1, 2, 3, 4}) {
    for (int64_t d : {-1, 0, 1}) v.push_back(m * lanes + d);
  }
  return v;
}

// Uniform values with NaN, infinities and signed zeros mixed in.
std::vector<float> with_specials(Rng& rng, int64_t count) {
  std::vector<float> v = rng.floats(count);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), 0.0f, -0.0f};
  for (int64_t i = 0; i < count; i += 5) v[i] = specials[rng.below(5)];
  return v;
}

void check_relu(Tally& t, Rng& rng, int64_t n) {
  const auto& k = kernels();
  const std::string at = " count=" + std::to_string(n);
  const std::vector<float> x = with_specials(rng, n);
  std::vector<float> got(n), want(n);
  k.relu_forward(got.data(), x.data(), n);
  relu_forward_ref(want.data(), x.data(), n);
  t.same("relu_forward" + at, got, want);
  std::vector<float> in_place = x;
  k.relu_forward(in_place.data(), in_place.data(), n);
  t.same("relu_forward in place" + at, in_place, want);

  const std::vector<float> dout = rng.floats(n);
  std::vector<float> dgot = rng.floats(n);
  std::vector<float> dwant = dgot;
  k.relu_backward(dgot.data(), dout.data(), want.data(), n);
  relu_backward_ref(dwant.data(), dout.data(), want.data(), n);
  t.same("relu_backward" + at, dgot, dwant);

  std::vector<float> mgot = dout, mwant = dout;
  k.relu_mask(mgot.data(), x.data(), n);
  relu_mask_ref(mwant.data(), x.data(), n);
  t.same("relu_mask" + at, mgot, mwant);

  // The fused residual add + ReLU against the two passes it replaces, bit for bit (specials in both inputs).
  const std::vector<float> y = with_specials(rng, n);
  std::vector<float> sum(n), fused(n);
  for (int64_t i = 0; i < n; ++i) sum[i] = x[i] + y[i];
  relu_forward_ref(sum.data(), sum.data(), n);
  add_relu_op(fused.data(), x.data(), y.data(), n);
  t.truth("add_relu_op" + at, n == 0 || std::memcmp(fused.data(), sum.data(), n * sizeof(float)) == 0);
}

void check_cross_entropy(Tally& t, Rng& rng, int64_t batch, int64_t classes) {
  const auto& k = kernels();
  const std::string at = " batch=" + std::to_string(batch) + " classes=" + std::to_string(classes);
  const CrossEntropyShape s{batch, classes};
  const std::vector<float> logits = rng.floats(batch * classes, -30.0f, 30.0f);
  std::vector<int32_t> targets(batch);
  for (int32_t& y : targets) y = rng.below(static_cast<int32_t>(classes));
  std::vector<float> probs(batch * classes), probs_ref(batch * classes);
  const double loss = k.cross_entropy_forward(probs.data(), logits.data(), targets.data(), s);
  const double loss_ref = cross_entropy_forward_ref(probs_ref.data(), logits.data(), targets.data(), s);
  t.truth("cross_entropy_forward loss" + at, std::fabs(loss - loss_ref) <= 1e-6 + 1e-6 * std::fabs(loss_ref));
  t.close("cross_entropy_forward probs" + at, probs, probs_ref, 1e-7, 1e-5);

  std::vector<float> dgot = rng.floats(batch * classes);
  std::vector<float> dwant = dgot;
  k.cross_entropy_backward(dgot.data(), probs_ref.data(), targets.data(), 0.75f, s);
  cross_entropy_backward_ref(dwant.data(), probs_ref.data(), targets.data(), 0.75f, s);
  t.close("cross_entropy_backward" + at, dgot, dwant, 1e-7, 1e-6);
}

void check_adam(Tally& t, Rng& rng, int64_t n, double weight_decay, int64_t step) {
  const std::string at =
      " count=" + std::to_string(n) + " wd=" + std::to_string(weight_decay) + " step=" + std::to_string(step);
  const AdamHyper h{1e-3, 0.9, 0.999, 1e-8, weight_decay, step};
  std::vector<float> param = rng.floats(n), m = rng.floats(n, -0.1f, 0.1f), v = rng.floats(n, 0.0f, 0.01f);
  const std::vector<float> grad = rng.floats(n);
  std::vector<float> param_ref = param, m_ref = m, v_ref = v;
  kernels().adam_step(param.data(), m.data(), v.data(), grad.data(), h, n);
  adam_step_ref(param_ref.data(), m_ref.data(), v_ref.data(), grad.data(), h, n);
  t.close("adam_step param" + at, param, param_ref, 1e-7, 1e-6);
  t.close("adam_step exp_avg" + at, m, m_ref, 1e-8, 1e-6);
  t.close("adam_step exp_avg_sq" + at, v, v_ref, 1e-10, 1e-6);
}

// BatchNorm + residual add (+ ReLU) in training: the ISA's build gives the reference's bits, and the reference gives
// the unfused ops' bits (BatchNorm, then add_op's or add_relu_op's rule).
void check_batchnorm_residual(Tally& t, Rng& rng, const BatchNormShape& s, const std::vector<float>& x,
                              const std::vector<float>& weight, const std::vector<float>& bias, const std::string& at) {
  const auto& k = kernels();
  const ChannelRange r{0, s.c};
  const int64_t len = s.n * s.c * s.s, c = s.c;
  const std::vector<float> res = with_specials(rng, len);
  std::vector<float> mean(c), invstd(c), y(len);
  batchnorm_forward_train_ref(y.data(), mean.data(), invstd.data(), nullptr, nullptr, x.data(), nullptr, weight.data(),
                              bias.data(), 1e-5, 0.1, false, s, r);
  for (const bool relu : {false, true}) {
    const std::string how = at + (relu ? " residual relu" : " residual");
    std::vector<float> out(len), out_ref(len), unfused(len), m(c), v(c);
    k.batchnorm_forward_train(out.data(), m.data(), v.data(), nullptr, nullptr, x.data(), res.data(), weight.data(),
                              bias.data(), 1e-5, 0.1, relu, s, r);
    batchnorm_forward_train_ref(out_ref.data(), m.data(), v.data(), nullptr, nullptr, x.data(), res.data(),
                                weight.data(), bias.data(), 1e-5, 0.1, relu, s, r);
    relu ? add_relu_op(unfused.data(), y.data(), res.data(), len) : add_op(unfused.data(), y.data(), res.data(), len);
    t.same("batchnorm_forward_train out" + how, out, out_ref);
    t.same("batchnorm_forward_train out" + how + " = unfused", out_ref, unfused);
  }
}

// Batch norm (train and eval, forward and backward, with and without the fused ReLU): the ISA's build of
// batchnorm_impl.inc must give the reference's bits. Rows of s values around the vector width and the 1024 block.
void check_batchnorm(Tally& t, Rng& rng, int64_t n, int64_t c, int64_t sz) {
  const auto& k = kernels();
  const std::string at = " [" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(sz) + "]";
  const BatchNormShape s{n, c, sz};
  const ChannelRange r{0, c};
  const int64_t len = n * c * sz;
  const std::vector<float> x = rng.floats(len), dout = rng.floats(len), weight = rng.floats(c), bias = rng.floats(c);
  for (const bool relu : {false, true}) {
    const std::string how = at + (relu ? " relu" : "");
    std::vector<float> out(len), out_ref(len), mean(c), mean_ref(c), invstd(c), invstd_ref(c);
    std::vector<float> rm = rng.floats(c), rv = rng.floats(c, 0.5f, 2.0f);
    std::vector<float> rm_ref = rm, rv_ref = rv;
    k.batchnorm_forward_train(out.data(), mean.data(), invstd.data(), rm.data(), rv.data(), x.data(), nullptr,
                              weight.data(), bias.data(), 1e-5, 0.1, relu, s, r);
    batchnorm_forward_train_ref(out_ref.data(), mean_ref.data(), invstd_ref.data(), rm_ref.data(), rv_ref.data(),
                                x.data(), nullptr, weight.data(), bias.data(), 1e-5, 0.1, relu, s, r);
    t.same("batchnorm_forward_train out" + how, out, out_ref);
    t.same("batchnorm_forward_train invstd" + how, invstd, invstd_ref);
    t.same("batchnorm_forward_train running_var" + how, rv, rv_ref);
    for (const bool add : {false, true}) {
      std::vector<float> dx = rng.floats(len), dw = rng.floats(c), db = rng.floats(c);
      std::vector<float> dx_ref = dx, dw_ref = dw, db_ref = db;
      k.batchnorm_backward_train(dx.data(), dw.data(), db.data(), dout.data(), x.data(), mean_ref.data(),
                                 invstd_ref.data(), weight.data(), bias.data(), relu, add, s, r);
      batchnorm_backward_train_ref(dx_ref.data(), dw_ref.data(), db_ref.data(), dout.data(), x.data(), mean_ref.data(),
                                   invstd_ref.data(), weight.data(), bias.data(), relu, add, s, r);
      t.same("batchnorm_backward_train dinput" + how + (add ? " add" : ""), dx, dx_ref);
      t.same("batchnorm_backward_train dweight" + how, dw, dw_ref);
      t.same("batchnorm_backward_train dbias" + how, db, db_ref);
    }
    if (relu) {
      // The mask recomputed from x is the one the forward's ReLU output gives (relu_mask's rule), bit for bit.
      std::vector<float> masked(len);
      for (int64_t i = 0; i < len; ++i) masked[i] = out_ref[i] > 0.0f || std::isnan(out_ref[i]) ? dout[i] : 0.0f;
      std::vector<float> dx(len), dw(c), db(c), dx_ref(len), dw_ref(c), db_ref(c);
      batchnorm_backward_train_ref(dx.data(), dw.data(), db.data(), dout.data(), x.data(), mean_ref.data(),
                                   invstd_ref.data(), weight.data(), bias.data(), true, false, s, r);
      batchnorm_backward_train_ref(dx_ref.data(), dw_ref.data(), db_ref.data(), masked.data(), x.data(),
                                   mean_ref.data(), invstd_ref.data(), weight.data(), nullptr, false, false, s, r);
      t.same("batchnorm_backward_train relu mask dinput" + at, dx, dx_ref);
      t.same("batchnorm_backward_train relu mask dweight" + at, dw, dw_ref);
      t.same("batchnorm_backward_train relu mask dbias" + at, db, db_ref);
    }
  }
  check_batchnorm_residual(t, rng, s, x, weight, bias, at);
  std::vector<float> out(len), out_ref(len);
  const std::vector<float> rm = rng.floats(c), rv = rng.floats(c, 0.5f, 2.0f);
  k.batchnorm_forward_eval(out.data(), x.data(), rm.data(), rv.data(), weight.data(), bias.data(), 1e-5, s, r);
  batchnorm_forward_eval_ref(out_ref.data(), x.data(), rm.data(), rv.data(), weight.data(), bias.data(), 1e-5, s, r);
  t.same("batchnorm_forward_eval" + at, out, out_ref);
  std::vector<float> dx = rng.floats(len), dw = rng.floats(c), db = rng.floats(c);
  std::vector<float> dx_ref = dx, dw_ref = dw, db_ref = db;
  k.batchnorm_backward_eval(dx.data(), dw.data(), db.data(), dout.data(), x.data(), rm.data(), rv.data(), weight.data(),
                            1e-5, s, r);
  batchnorm_backward_eval_ref(dx_ref.data(), dw_ref.data(), db_ref.data(), dout.data(), x.data(), rm.data(), rv.data(),
                              weight.data(), 1e-5, s, r);
  t.same("batchnorm_backward_eval dinput" + at, dx, dx_ref);
  t.same("batchnorm_backward_eval dweight" + at, dw, dw_ref);
}

}  // namespace

void test_elementwise(Tally& t, int64_t lanes) {
  if (lanes == 1) return;  // the ref table's kernels are the references
  Rng rng(2);
  for (int64_t n : counts(lanes)) {
    if (n < 0) continue;
    check_relu(t, rng, n);
    check_adam(t, rng, n, n % 2 ? 0.01 : 0.0, n % 3 + 1);
  }
  for (int64_t sz : {1, 7, 64, 1000, 1030, 4099}) check_batchnorm(t, rng, 3, 5, sz);
  for (int64_t sz : {1, 13, 64}) check_batchnorm(t, rng, 9, 2, sz);  // the sums' four-row groups and a single row
  for (int64_t batch : {1, 3, 8}) {
    for (int64_t classes : counts(lanes)) {
      if (classes >= 1 && classes <= 1000) check_cross_entropy(t, rng, batch, classes);
    }
  }
}

}  // namespace simdnet::test
