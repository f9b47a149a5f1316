// SPDX-License-Identifier: MIT
// sgemm (A B, A read through strides) and sgemm_nt (A B^T) of the current ISA against float64 loops,
// on sizes around the register tile (rows MR <= 8, columns a few vectors) and the vector width.
#include <algorithm>
#include <string>
#include <vector>

#include "check.h"
#include "dispatch.h"

namespace simdnet::test {
namespace {

std::string name(const char* op, int64_t m, int64_t n, int64_t k, const char* variant) {
  return std::string(op) + " m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k) + " " +
         variant;
}

// Sizes around multiples of the vector width: tile-1, tile, tile+1 and primes.
std::vector<int64_t> around_lanes(int64_t lanes) {
  std::vector<int64_t> v{1, 2, 7, 13, 31, lanes - 1, lanes, lanes + 1, 2 * lanes + 1, 4 * lanes - 1, 4 * lanes + 1, 67};
  v.erase(std::remove_if(v.begin(), v.end(), [](int64_t x) { return x < 1; }), v.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

void check_sgemm(Tally& t, Rng& rng, int64_t m, int64_t n, int64_t k, bool transposed_a, bool accumulate) {
  // A [m x k] stored transposed (column-major, padded) or row-major with a padded row stride.
  const int64_t a_rs = transposed_a ? 1 : k + 3, a_cs = transposed_a ? m + 2 : 1;
  const int64_t ldb = n + 5, ldc = n + 3;
  const std::vector<float> a = rng.floats(transposed_a ? a_cs * k : a_rs * m);
  const std::vector<float> b = rng.floats(ldb * k);
  std::vector<float> c = rng.floats(ldc * m);
  std::vector<float> want = c;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = accumulate ? c[i * ldc + j] : 0.0;
      for (int64_t p = 0; p < k; ++p) sum += double(a[i * a_rs + p * a_cs]) * b[p * ldb + j];
      want[i * ldc + j] = static_cast<float>(sum);
    }
  }
  std::vector<float> workspace(static_cast<size_t>(sgemm_workspace_floats(m, n, k)));
  kernels().sgemm(GemmArgs{m, n, k, a.data(), a_rs, a_cs, b.data(), ldb, c.data(), ldc, accumulate}, workspace.data());
  // Padding columns of C (j >= n) must be left as they were: want keeps the old values there.
  t.close(name("sgemm", m, n, k, transposed_a ? (accumulate ? "A^T acc" : "A^T") : (accumulate ? "acc" : "")), c, want,
          2e-6 * double(k) + 1e-6, 1e-5);
}

void check_sgemm_nt(Tally& t, Rng& rng, int64_t m, int64_t n, int64_t k, bool accumulate) {
  const int64_t lda = k + 2, ldb = k + 1, ldc = n + 3;
  const std::vector<float> a = rng.floats(lda * m);
  const std::vector<float> b = rng.floats(ldb * n);
  std::vector<float> c = rng.floats(ldc * m);
  std::vector<float> want = c;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = accumulate ? c[i * ldc + j] : 0.0;
      for (int64_t p = 0; p < k; ++p) sum += double(a[i * lda + p]) * b[j * ldb + p];
      want[i * ldc + j] = static_cast<float>(sum);
    }
  }
  kernels().sgemm_nt(GemmNTArgs{m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate});
  t.close(name("sgemm_nt", m, n, k, accumulate ? "acc" : ""), c, want, 2e-6 * double(k) + 1e-6, 1e-5);
}

// The linear layer's call: C = A B^T + bias (or + C with accumulate), then the ReLU, against float64 loops; and each
// row again alone (m = 1), which must give the same bits (a row's result may not depend on the rest of its batch).
void check_sgemm_nt_fused(Tally& t, Rng& rng, int64_t m, int64_t n, int64_t k, bool accumulate, bool bias, bool relu) {
  const int64_t lda = k + 1, ldb = k + 3, ldc = n + 2;
  const std::vector<float> a = rng.floats(lda * m);
  const std::vector<float> b = rng.floats(ldb * n);
  const std::vector<float> bv = rng.floats(n);
  const std::vector<float> c0 = rng.floats(ldc * m);
  std::vector<float> want = c0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = accumulate ? c0[i * ldc + j] : bias ? bv[j] : 0.0;
      for (int64_t p = 0; p < k; ++p) sum += double(a[i * lda + p]) * b[j * ldb + p];
      want[i * ldc + j] = relu && sum < 0.0 ? 0.0f : static_cast<float>(sum);
    }
  }
  const float* bias_ptr = bias ? bv.data() : nullptr;
  std::vector<float> c = c0;
  kernels().sgemm_nt(GemmNTArgs{m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate, bias_ptr, relu});
  const std::string what = name("sgemm_nt", m, n, k, accumulate ? "acc" : bias ? (relu ? "bias relu" : "bias") : "");
  t.close(what, c, want, 2e-6 * double(k) + 1e-6, 1e-5);
  std::vector<float> alone = c0;
  for (int64_t i = 0; i < m; ++i) {
    kernels().sgemm_nt(GemmNTArgs{1, n, k, a.data() + i * lda, lda, b.data(), ldb, alone.data() + i * ldc, ldc,
                                  accumulate, bias_ptr, relu});
  }
  t.same(what + " rows alone", alone, c);
}

}  // namespace

void test_gemm(Tally& t, int64_t lanes) {
  if (lanes == 1) return;  // the ref table's sgemm is the reference
  Rng rng(1);
  const std::vector<int64_t> rows{1, 3, 5, 7, 8, 9, 16, 17};
  const std::vector<int64_t> cols = around_lanes(lanes);
  for (int64_t m : rows) {
    for (int64_t n : cols) {
      for (int64_t k : {int64_t{1}, int64_t{3}, int64_t{17}, int64_t{64}}) {
        check_sgemm(t, rng, m, n, k, false, false);
        check_sgemm(t, rng, m, n, k, true, (m + n + k) % 2 == 0);
      }
    }
  }
  for (int64_t m : rows) {
    for (int64_t n : {int64_t{1}, int64_t{4}, int64_t{9}, int64_t{16}}) {
      for (int64_t k : around_lanes(lanes)) check_sgemm_nt(t, rng, m, n, k, (m + k) % 2 == 1);
    }
  }
  check_sgemm(t, rng, 120, 400, 150, false, true);  // LeNet fc1-sized: several panels and tiles
  check_sgemm_nt(t, rng, 64, 120, 400, false);
  // A B^T's register tiles (up to 4 x 4), its k tails (every length up to a few vectors) and the bias and ReLU of a
  // linear layer's forward, with LeNet's k (400, 120, 84).
  std::vector<int64_t> ks;
  for (int64_t k = 1; k <= 70; ++k) ks.push_back(k);
  for (int64_t k : {84, 120, 400}) ks.push_back(k);
  for (int64_t k : ks) {
    for (int64_t m = 1; m <= 9; ++m) {
      for (int64_t n = 1; n <= 20; ++n) {
        const int64_t variant = (m + n + k) % 4;
        check_sgemm_nt_fused(t, rng, m, n, k, variant == 1, variant >= 2, variant == 3);
      }
    }
  }
}

}  // namespace simdnet::test
