// SPDX-License-Identifier: MIT
// Parallel loops for the ops layer: OpenMP when available, serial otherwise. Exceptions thrown in
// a worker thread are carried out of the region and rethrown on the caller (never std::terminate).
#pragma once
#include <cstdint>
#include <exception>

#include "kernels/common/omp.h"

namespace simdnet {

// Threads the parallel ops use (threads.cc): SIMDNET_NUM_THREADS or one per physical core.
int num_threads();

// Runs fn(i) for i in [0, n), split statically across threads.
template <typename Fn>
void parallel_for(int64_t n, Fn&& fn) {
  std::exception_ptr error = nullptr;
  const int threads = num_threads();
  if (n == 1 || threads == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
  for (int64_t i = 0; i < n; ++i) {
    try {
      fn(i);
    } catch (...) {
#ifdef _OPENMP
#pragma omp critical(simdnet_parallel_error)
#endif
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Splits columns [0, n) into contiguous ranges (multiples of `align` except the last), one per
// thread when the work is worth it, and runs fn(begin, end) on each. Every output column is
// computed by exactly one call, so results do not depend on the thread count.
template <typename Fn>
void parallel_columns(int64_t n, int64_t align, double flops, Fn&& fn) {
  constexpr double kMinFlopsPerThread = 2e5;  // below this, fork/join costs more than it saves
  int64_t parts = num_threads();
  if (parts > 1 && flops / static_cast<double>(parts) < kMinFlopsPerThread) parts = 1;
  const int64_t blocks = (n + align - 1) / align;
  if (parts > blocks) parts = blocks;
  if (parts <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  parallel_for(parts, [&](int64_t t) {
    const int64_t b0 = blocks * t / parts, b1 = blocks * (t + 1) / parts;
    const int64_t begin = b0 * align, end = b1 * align < n ? b1 * align : n;
    if (begin < end) fn(begin, end);
  });
}

}  // namespace simdnet
