// SPDX-License-Identifier: MIT
// Helpers of the C++ kernel tests: a seeded generator, buffers, and a tally of comparisons against
// the scalar references. Each suite runs for the ISA currently selected in the kernel table.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace simdnet::test {

// xorshift64*: the same numbers on every platform and compiler.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 2654435761u + 1) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 2685821657736338717ull;
  }
  // Uniform in [lo, hi).
  float uniform(float lo = -1.0f, float hi = 1.0f) {
    return lo + (hi - lo) * static_cast<float>((next() >> 40) * (1.0 / 16777216.0));
  }
  int32_t below(int32_t n) { return static_cast<int32_t>(next() % static_cast<uint64_t>(n)); }
  std::vector<float> floats(int64_t count, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(static_cast<size_t>(count));
    for (float& x : v) x = uniform(lo, hi);
    return v;
  }

 private:
  uint64_t state_;
};

// Counts checks; prints each failure with its case name and the first bad element.
class Tally {
 public:
  // |got - want| <= atol + rtol |want| for every element (NaN matches NaN).
  void close(const std::string& what, const float* got, const float* want, int64_t count, double atol, double rtol) {
    for (int64_t i = 0; i < count; ++i) {
      const double g = got[i], w = want[i];
      const bool ok = g == w || (std::isnan(g) && std::isnan(w)) || std::fabs(g - w) <= atol + rtol * std::fabs(w);
      if (!ok) {
        fail(what, i, g, w);
        return;
      }
    }
    ++passed_;
  }
  void close(const std::string& what, const std::vector<float>& got, const std::vector<float>& want, double atol,
             double rtol) {
    if (got.size() != want.size()) {
      fail(what + " (length)", 0, static_cast<double>(got.size()), static_cast<double>(want.size()));
      return;
    }
    close(what, got.data(), want.data(), static_cast<int64_t>(got.size()), atol, rtol);
  }
  // Bit-for-bit equal (NaN payloads aside).
  void same(const std::string& what, const std::vector<float>& got, const std::vector<float>& want) {
    close(what, got, want, 0.0, 0.0);
  }
  // Bit for bit, NaN payloads and the sign of zero included.
  void same_bits(const std::string& what, const std::vector<float>& got, const std::vector<float>& want) {
    for (size_t i = 0; i < want.size(); ++i) {
      if (i >= got.size() || std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
        fail(what + " (bits)", static_cast<int64_t>(i), i < got.size() ? got[i] : 0.0, want[i]);
        return;
      }
    }
    ++passed_;
  }
  void same_ints(const std::string& what, const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
    for (size_t i = 0; i < want.size(); ++i) {
      if (got[i] != want[i]) {
        fail(what, static_cast<int64_t>(i), got[i], want[i]);
        return;
      }
    }
    ++passed_;
  }
  void truth(const std::string& what, bool ok) {
    if (ok)
      ++passed_;
    else
      fail(what, 0, 0, 1);
  }
  int passed() const { return passed_; }
  int failed() const { return failed_; }
  std::string isa;  // printed with each failure

 private:
  void fail(const std::string& what, int64_t index, double got, double want) {
    ++failed_;
    std::printf("FAIL [%s] %s: element %lld is %.9g, expected %.9g\n", isa.c_str(), what.c_str(),
                static_cast<long long>(index), got, want);
  }
  int passed_ = 0;
  int failed_ = 0;
};

// The suites (one file each); lanes is the vector width of the ISA under test (1 for ref).
void test_gemm(Tally& t, int64_t lanes);
void test_elementwise(Tally& t, int64_t lanes);
void test_conv(Tally& t, int64_t lanes);
void test_dense_pool(Tally& t, int64_t lanes);
void test_maxpool_2x2(Tally& t);    // the 2x2 / stride-2 kernel: every width, NaN and signed zeros
void test_thread_trials(Tally& t);  // once, not per ISA
void test_pool(Tally& t);           // once: the thread pool under forced interleavings
void test_upsample(Tally& t, int64_t lanes);
void test_program(Tally& t, int64_t lanes);  // parallel regions and inference programs

}  // namespace simdnet::test
