// SPDX-License-Identifier: MIT
// Parallel regions (ops/parallel.h: run_region) and inference programs run in one: loops that read the loop before,
// run_once, an exception out of an item, and a small ResNet-like program (row-direct and channel convs, residuals
// from slots, max and average pool, a graph op, linear) on 1, 2 and 3 threads, batch 1 and 3, with and without packed
// weights, bit for bit.
#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "ops/conv2d_pack_cache.h"
#include "ops/ops.h"
#include "ops/parallel.h"
#include "ops/program.h"

namespace simdnet::test {
namespace {

// Loops inside a region, each reading what the one before wrote; every value computed once, in a fixed order. Loops
// of up to 40 items hand out their items by a mask (each member's share first), longer ones by a counter: both here.
std::vector<float> region_chain(int threads, int* seen_threads) {
  constexpr int64_t kN = 37, kLong = 101;
  std::vector<float> a(kN), b(kN), c(kN), d(kLong);
  float total = 0;
  *seen_threads = 0;
  parallel_region(threads, [&] {
    if (num_threads() != threads) *seen_threads = -1;  // every member sees the region's count
    parallel_for(kN, [&](int64_t i) { a[i] = 0.5f * static_cast<float>(i) + 1.0f; });
    parallel_for(kN, [&](int64_t i) { b[i] = a[i] * a[(i + 1) % kN] - a[(i + kN - 1) % kN]; });
    run_once([&] { total = std::accumulate(b.begin(), b.end(), 0.0f); });
    parallel_for(0, [&](int64_t) { total = -1; });  // no items: nothing runs, still a barrier
    parallel_columns(kN, 4, 1e9, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) c[i] = b[i] / total + a[i];
    });
    parallel_for(kLong, [&](int64_t i) { d[i] = c[i % kN] * static_cast<float>(i) - b[(3 * i) % kN]; });
    if (*seen_threads == 0) *seen_threads = num_threads();
  });
  c.push_back(total);
  c.insert(c.end(), d.begin(), d.end());
  return c;
}

void check_region(Tally& t) {
  int seen = 0;
  set_num_threads(1);  // the regions of 2 and 3 below count their own threads whatever this says
  const std::vector<float> want = region_chain(1, &seen);
  t.truth("region of 1 thread: num_threads() is 1 inside", seen == 1);
  for (int rep = 0; rep < 20; ++rep) {
    for (const int threads : {2, 3}) {
      const std::vector<float> got = region_chain(threads, &seen);
      if (rep == 0 || got != want) {
        t.same("region loops on " + std::to_string(threads) + " threads, rep " + std::to_string(rep), got, want);
        t.truth("region of " + std::to_string(threads) + " threads: num_threads() inside", seen == threads);
      }
    }
  }
  // An exception in an item reaches the caller; the items of the other loops all ran; the pool works after it.
  std::vector<int> ran(8, 0);
  bool thrown = false;
  try {
    parallel_region(2, [&] {
      parallel_for(8, [&](int64_t i) {
        ran[i] = 1;
        if (i == 3) throw std::runtime_error("item 3");
      });
    });
  } catch (const std::runtime_error& e) {
    thrown = std::string(e.what()) == "item 3";
  }
  t.truth("region: an item's exception reaches the caller", thrown);
  t.truth("region: every item of the throwing loop ran", std::accumulate(ran.begin(), ran.end(), 0) == 8);
  const std::vector<float> after = region_chain(2, &seen);
  t.same("region after an exception", after, want);
}

// A SerialScope makes num_threads() 1 on its thread (nested too), so loops run there; the count comes back after it.
void check_serial_scope(Tally& t) {
  set_num_threads(3);
  {
    const SerialScope serial;
    t.truth("serial scope: num_threads() is 1", num_threads() == 1);
    { const SerialScope inner; }
    t.truth("serial scope: still 1 after an inner scope ends", num_threads() == 1);
    std::vector<std::thread::id> ran(16);
    parallel_for(16, [&](int64_t i) { ran[i] = std::this_thread::get_id(); });
    t.truth("serial scope: every item on the calling thread",
            std::all_of(ran.begin(), ran.end(), [](std::thread::id id) { return id == std::this_thread::get_id(); }));
  }
  t.truth("serial scope: the count is back after it", num_threads() == 3);
}

// A descriptor of ResNet-like ops on [3, 16, 16] images (program.h's layout); params are made to match.
struct TestProgram {
  std::vector<int32_t> code;
  std::vector<std::vector<float>> params;
  int32_t param(Rng& rng, int64_t count, float scale) {
    params.push_back(rng.floats(count, -scale, scale));
    return static_cast<int32_t>(params.size() - 1);
  }
  void conv(Rng& rng, int32_t op, int32_t c, int32_t hw, int32_t oc, int32_t stride, bool relu) {
    const float scale = 1.0f / static_cast<float>(3 * c);
    const int32_t w = param(rng, int64_t{oc} * c * 9, scale), b = param(rng, oc, 0.1f);
    code.insert(code.end(), {op, c, hw, hw, oc, 3, 3, stride, stride, 1, 1, 1, 1, 1, relu ? 1 : 0, w, b});
  }
};

TestProgram resnet_like(Rng& rng) {
  TestProgram p;
  p.conv(rng, kOpConv, 3, 16, 16, 1, true);  // stem: row-direct
  p.code.insert(p.code.end(), {kOpSave, 0, 16 * 256});
  p.conv(rng, kOpConv, 16, 16, 16, 1, true);
  p.conv(rng, kOpConvAdd, 16, 16, 16, 1, true);  // + identity residual from slot 0
  p.code.insert(p.code.end(), {0, 16, 16, 16, 0, 0, 0, 1, 1, 1, 0, 16});
  p.code.insert(p.code.end(), {kOpSave, 1, 16 * 256});
  p.conv(rng, kOpConv, 16, 16, 32, 2, true);    // stride 2: channel tiles
  p.conv(rng, kOpConvAdd, 32, 8, 32, 1, true);  // + ResNet's shortcut A from slot 1 (every other pixel, channels 8..24)
  p.code.insert(p.code.end(), {1, 16, 16, 16, 0, 0, 0, 1, 2, 2, 8, 16});
  p.code.insert(p.code.end(), {kOpMaxPool, 32, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 0});
  p.code.insert(p.code.end(), {kOpSave, 2, 32 * 16});
  p.code.insert(p.code.end(), {kOpBinary, 1, 0, 2, 3, 32, 4, 4, 32, 4, 4, 32, 4, 4});  // x * x
  p.code.insert(p.code.end(), {kOpAvgPool, 32, 4, 4, 1, 1, 0, 4, 0, 4, 16});
  const int32_t w = p.param(rng, 10 * 32, 0.2f), b = p.param(rng, 10, 0.1f);
  p.code.insert(p.code.end(), {kOpLinear, 32, 10, 0, w, b});
  return p;
}

void check_program(Tally& t) {
  Rng rng(11);
  const TestProgram p = resnet_like(rng);
  std::vector<const float*> params;
  std::vector<int64_t> lengths;
  for (const std::vector<float>& v : p.params) {
    params.push_back(v.data());
    lengths.push_back(static_cast<int64_t>(v.size()));
  }
  Program program;
  const std::string error = parse_program(p.code.data(), static_cast<int64_t>(p.code.size()), lengths, &program);
  t.truth("test program parses (" + error + ")", error.empty());
  if (!error.empty()) return;
  // Batch 5 runs in chunks of 2, 2 and 1 images (run_program), on whichever threads take them; batch 3 as one. Both
  // must give each image's output as a run on that image alone does.
  program.chunk_images = 2;
  for (const int64_t n : {1, 3, 5}) {
    const std::vector<float> input = rng.floats(n * program.in_size);
    std::vector<float> want(n * program.out_size), got(want.size());
    set_num_threads(1);
    for (int64_t i = 0; i < n; ++i)
      run_program(program, 1, input.data() + i * program.in_size, want.data() + i * program.out_size, params);
    ConvPackCache cache;
    for (const int threads : {2, 3, 1, 2}) {
      set_num_threads(threads);
      const std::string at = "program batch " + std::to_string(n) + ", " + std::to_string(threads) + " threads";
      run_program(program, n, input.data(), got.data(), params);
      t.same(at + " vs 1 thread", got, want);
      run_program(program, n, input.data(), got.data(), params, &cache);
      t.same(at + " with packed weights vs 1 thread", got, want);
    }
  }
}

}  // namespace

void test_program(Tally& t, int64_t) {
  const int threads = default_num_threads();
  check_region(t);
  check_serial_scope(t);
  check_program(t);
  set_num_threads(threads);
}

}  // namespace simdnet::test
