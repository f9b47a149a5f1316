// SPDX-License-Identifier: MIT
// Parallel loops for the ops layer: a thread pool in the parallel build, serial otherwise. Exceptions
// thrown in a worker thread are carried out of the loop and rethrown on the caller (never std::terminate).
#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <type_traits>

namespace simdnet {

// Threads the parallel ops use now (threads.cc): setNumThreads or SIMDNET_NUM_THREADS when given,
// else 'auto': one per physical core, or one thread while trials under contention find it faster.
int num_threads();

// While one lives on a thread, num_threads() is 1 there, so the parallel loops it runs go in order on that thread:
// for work too small to share (run_program's tiny programs), where waking and waiting for another thread costs more
// than it saves. Results are the same: they never depend on the thread count.
class SerialScope {
 public:
  SerialScope();
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  bool outer_;
};

// Runs body(ctx, i) for i in [0, n) on up to `threads` threads (thread_pool.cc), the caller among
// them; returns when every item is done. Items run in order on the caller when the pool is busy
// (another JS thread's op), inside another parallel loop, or without OpenMP.
using ParallelBody = void (*)(void* ctx, int64_t i);
void run_parallel(int64_t n, int threads, ParallelBody body, void* ctx);

// Runs body(ctx, 0) on up to `threads` threads at once, the caller among them, each running all of it: one parallel
// region for a whole inference program instead of a fork/join per op. Inside, each parallel_for hands its items to
// whichever member threads come (a member the OS has not scheduled holds up nothing) and every member waits at its
// end until all its items are done, so the loops run in the same order on every member and with the same items
// (num_threads() is `threads` throughout). Code between the loops runs on every member: it may write only this
// thread's scratch; anything shared goes in a loop, or in run_once. The body's control flow must not depend on the
// thread. Runs on the caller alone (same loops and items) when the pool is busy or without OpenMP. Rethrows the
// first exception a member threw.
void run_region(int threads, ParallelBody body, void* ctx);
// True on a region's member thread outside the items of its loops (parallel_for there shares items); region_threads()
// is the region's thread count on its members (inside items too), else 0.
bool in_region();
int region_threads();

// Tests only (native/tests/test_pool.cc): when set, the pool calls it at its race-prone points to hold a thread there
// (kHelperRead: a helper about to read a job's fields; kPublish: the caller between writing a job's fields and
// publishing it), so that interleavings a busy machine produces rarely happen on every job.
enum class PoolPoint { kHelperRead, kPublish };
using PoolPause = void (*)(PoolPoint);
extern std::atomic<PoolPause> pool_test_pause;

// While on, the pool adds the CPU time its threads spend spinning (waiting for work or for items
// other threads started) to spin_cpu_seconds(): the 'auto' count's trials subtract it from this
// process's CPU time to get the useful work done (thread_trials.h). Serial builds: always 0.
void set_spin_accounting(bool on);
double spin_cpu_seconds();

// Runs fn(i) for i in [0, n), each i handed to the next free thread: a thread the OS preempts
// holds up only the item it is on, and one not scheduled at all holds up nothing.
template <typename Fn>
void parallel_for(int64_t n, Fn&& fn) {
  const int threads = n < num_threads() ? static_cast<int>(n) : num_threads();  // no idle threads
  if (threads <= 1 && !in_region()) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  struct Context {
    Fn& fn;
    std::mutex mu;
    std::exception_ptr error;
  } context{fn, {}, nullptr};
  run_parallel(
      n, threads,
      [](void* c, int64_t i) {
        Context& ctx = *static_cast<Context*>(c);
        try {
          ctx.fn(i);
        } catch (...) {
          std::lock_guard<std::mutex> lock(ctx.mu);
          if (!ctx.error) ctx.error = std::current_exception();
        }
      },
      &context);
  if (context.error) std::rethrow_exception(context.error);
}

// run_region with a callable: fn() on every member.
template <typename Fn>
void parallel_region(int threads, Fn&& fn) {
  using Body = std::remove_reference_t<Fn>;
  run_region(
      threads, [](void* f, int64_t) { (*static_cast<Body*>(f))(); }, &fn);
}

// Runs fn() once: on this thread, or inside a region on the first member to come (the others wait for it).
template <typename Fn>
void run_once(Fn&& fn) {
  parallel_for(1, [&](int64_t) { fn(); });
}

// Below this many flops per thread, fork/join costs more than it saves.
constexpr double kMinFlopsPerThread = 2e5;

// [begin, end) of part `i` of `parts` over [0, n), cut at multiples of `align` (the last part ends at n).
struct PartRange {
  int64_t begin, end;
};
inline PartRange part_range(int64_t n, int64_t align, int64_t parts, int64_t i) {
  const int64_t blocks = (n + align - 1) / align;
  const int64_t b0 = blocks * i / parts, b1 = blocks * (i + 1) / parts;
  return {b0 * align < n ? b0 * align : n, b1 * align < n ? b1 * align : n};
}

// How many parts to cut each of `items` work items into so that every thread has work (batch 1 on
// many threads): 1 when the items alone fill the threads, else up to `max_parts`, each part keeping
// at least kMinFlopsPerThread. Callers cut so that every output value is still computed by one
// part in the same order, so results do not depend on the part count.
inline int64_t parts_per_item(int64_t items, int64_t max_parts, double flops_per_item) {
  const int64_t threads = num_threads();
  if (items >= threads || max_parts <= 1) return 1;
  int64_t parts = (threads + items - 1) / items;
  if (parts > max_parts) parts = max_parts;
  while (parts > 1 && flops_per_item / static_cast<double>(parts) < kMinFlopsPerThread) --parts;
  return parts;
}

// Splits columns [0, n) into contiguous ranges (multiples of `align` except the last), a few per
// thread when the work is worth it (so a preempted thread's share is small and the others take
// the rest), and runs fn(begin, end) on each. Every output column is computed by exactly one
// call, so results do not depend on the thread count.
template <typename Fn>
void parallel_columns(int64_t n, int64_t align, double flops, Fn&& fn) {
  constexpr int64_t kPartsPerThread = 2;
  const int64_t threads = num_threads();
  int64_t parts = threads > 1 && flops / static_cast<double>(threads) >= kMinFlopsPerThread ? threads : 1;
  if (parts > 1 && flops / static_cast<double>(parts * kPartsPerThread) >= kMinFlopsPerThread / 4)
    parts *= kPartsPerThread;
  const int64_t blocks = (n + align - 1) / align;
  if (parts > blocks) parts = blocks > 1 ? blocks : 1;
  if (parts == 1 && !in_region()) {
    fn(int64_t{0}, n);
    return;
  }
  parallel_for(parts, [&](int64_t i) {
    const PartRange r = part_range(n, align, parts, i);
    if (r.begin < r.end) fn(r.begin, r.end);
  });
}

}  // namespace simdnet
