// SPDX-License-Identifier: MIT
// The thread pool (ops/thread_pool.cc) under the interleavings a busy machine makes: pool_test_pause holds a helper
// just before it reads a job's fields and the caller between writing the next job's fields and publishing it, on
// every job. Each item must run exactly once and every job must return. Before the fix, a helper that had seen the
// last job fully claimed read the next job's item count, claimed an item with the old index, ran it twice and
// overcounted done_: the caller then waited forever (CI's intermittent soak hangs, native and WebAssembly).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "ops/parallel.h"

namespace simdnet::test {
namespace {

void widen_races(PoolPoint point) {
  std::this_thread::sleep_for(std::chrono::microseconds(point == PoolPoint::kPublish ? 50 : 20));
}

// A hung pool would hang the test binary: fail it instead when `seconds` pass before *done is set (the paused jobs
// take a few seconds).
void start_watchdog(const std::atomic<bool>* done, int seconds) {
  std::thread([done, seconds] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!done->load()) {
      if (std::chrono::steady_clock::now() > until) {
        std::printf("FAIL thread pool: a job did not return within %d s (hang)\n", seconds);
        std::fflush(stdout);
        std::_Exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }).detach();
}

}  // namespace

void test_pool(Tally& t) {
  pool_test_pause.store(widen_races);
  static std::atomic<bool> done{false};
  start_watchdog(&done, 120);
  constexpr int kJobs = 1500;
  // Plain jobs of 2-4 items on 3 threads (two helpers), back to back.
  std::vector<std::atomic<int>> runs(4 * kJobs);
  for (int j = 0; j < kJobs; ++j) {
    std::atomic<int>* mine = &runs[4 * static_cast<size_t>(j)];
    run_parallel(
        2 + j % 3, 3, [](void* c, int64_t i) { static_cast<std::atomic<int>*>(c)[i]++; }, mine);
  }
  int wrong = 0;
  for (int j = 0; j < kJobs; ++j)
    for (int i = 0; i < 2 + j % 3; ++i) wrong += runs[4 * static_cast<size_t>(j) + i].load() != 1;
  t.truth("thread pool, paused helpers: every item of " + std::to_string(kJobs) + " jobs ran once (" +
              std::to_string(wrong) + " did not)",
          wrong == 0);
  // Regions of three loops each, as inference programs run them.
  constexpr int kRegions = 300;
  std::vector<std::atomic<int>> region_runs(kRegions * 9);
  for (int j = 0; j < kRegions; ++j) {
    std::atomic<int>* mine = &region_runs[9 * static_cast<size_t>(j)];
    parallel_region(2, [&] {
      for (int loop = 0; loop < 3; ++loop) parallel_for(3, [&](int64_t i) { mine[3 * loop + i]++; });
    });
  }
  wrong = 0;
  for (const std::atomic<int>& r : region_runs) wrong += r.load() != 1;
  t.truth("thread pool, paused helpers: every loop item of " + std::to_string(kRegions) + " regions ran once (" +
              std::to_string(wrong) + " did not)",
          wrong == 0);
  pool_test_pause.store(nullptr);
  done.store(true);
}

}  // namespace simdnet::test
