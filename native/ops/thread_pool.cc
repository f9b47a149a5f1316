// SPDX-License-Identifier: MIT
// The worker threads behind parallel_for (parallel.h). Unlike an OpenMP team, whose join waits for
// every thread of the team, the caller here waits only for items another thread has started: a
// worker the OS has not scheduled yet (another process holds its core) finds nothing left when
// it wakes, instead of holding up the whole op. Items are claimed one at a time, so a thread
// preempted mid-op delays only the item it is on.
//
// Built with OpenMP (the parallel build) or Emscripten's pthreads (build-wasm/simdnet-threads.wasm, on
// std::thread only); the serial build and the one-thread WebAssembly build run items in order.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "parallel.h"

namespace simdnet {

std::atomic<PoolPause> pool_test_pause{nullptr};

#if defined(_OPENMP) || defined(__EMSCRIPTEN_PTHREADS__)
namespace {

// How long an idle thread spins (checking for work) before it sleeps: back-to-back ops of a
// training step find their workers awake, and a busy machine loses little to spinning.
constexpr auto kSpin = std::chrono::microseconds(50);
// The caller waiting for items other threads have started spins up to its own mean item time
// (within these bounds) before it sleeps: a running helper finishes within about one item, and a
// caller that sleeps must wait to be scheduled again, long on a busy machine.
constexpr auto kMaxCallerSpin = std::chrono::microseconds(500);

std::atomic<bool> count_spin{false};  // set_spin_accounting
std::atomic<int64_t> spin_cpu_ns{0};  // CPU time spun while count_spin was on

int64_t thread_cpu_ns() {
#ifdef CLOCK_THREAD_CPUTIME_ID
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
#else
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
#endif
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until done() or `limit` has passed; true when done() held. The CPU time it took counts as
// spinning while the 'auto' thread count measures (threads.cc subtracts it from useful work).
template <typename Done>
bool spin_until(Done&& done, std::chrono::nanoseconds limit) {
  const bool counted = count_spin.load(std::memory_order_relaxed);
  const int64_t cpu0 = counted ? thread_cpu_ns() : 0;
  const auto until = std::chrono::steady_clock::now() + limit;
  bool ok = false;
  for (int i = 0;; ++i) {
    if (done()) {
      ok = true;
      break;
    }
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) break;
  }
  if (counted) spin_cpu_ns.fetch_add(thread_cpu_ns() - cpu0, std::memory_order_relaxed);
  return ok;
}

thread_local bool in_parallel = false;  // nested parallel_for calls run in order

void pause_for_test(PoolPoint point) {
  if (PoolPause pause = pool_test_pause.load(std::memory_order_relaxed)) pause(point);
}

class Pool {
 public:
  // False when the pool is in use by another caller (the caller then runs the items itself).
  bool run(int64_t n, int threads, ParallelBody body, void* ctx) {
    if (in_parallel || busy_.exchange(true)) return false;
    if (!ensure_workers(threads - 1)) {
      busy_.store(false);
      return false;
    }
    // Close the last job before its fields change: a helper that read its state (every item claimed) and then
    // reads this job's n_ must fail its claim, else it would run an item of this job with the last job's index and
    // count it twice in done_ (the caller then waits forever for done_ == n, as CI runs on busy machines did).
    state_.exchange(generation_ << kIndexBits | kIndexMask, std::memory_order_acq_rel);
    const uint64_t gen = (generation_ + 1) & kGenMask;
    generation_ = gen;
    body_.store(body, std::memory_order_release);
    ctx_.store(ctx, std::memory_order_release);
    n_.store(n, std::memory_order_release);
    done_.store(0, std::memory_order_relaxed);
    pause_for_test(PoolPoint::kPublish);
    tickets_.store(gen << kIndexBits | static_cast<uint64_t>(threads - 1), std::memory_order_relaxed);
    state_.store(gen << kIndexBits);  // publishes the job (seq_cst: pairs with the sleepers check)
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      wake_.notify_all();
    }
    in_parallel = true;
    const auto start = std::chrono::steady_clock::now();
    const int64_t mine = work(gen);
    in_parallel = false;
    const auto per_item = mine > 0 ? (std::chrono::steady_clock::now() - start) / mine : kSpin;
    const auto limit = std::clamp<std::chrono::nanoseconds>(per_item, kSpin, kMaxCallerSpin);
    if (!spin_until([&] { return done_.load(std::memory_order_acquire) == n; }, limit)) {
      std::unique_lock<std::mutex> lock(mu_);
      caller_waiting_.store(true);
      finished_.wait(lock, [&] { return done_.load() == n; });
      caller_waiting_.store(false);
    }
    busy_.store(false);
    return true;
  }

 private:
  static constexpr int kIndexBits = 40;
  static constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1, kGenMask = (uint64_t{1} << 24) - 1;

  bool ensure_workers(int count) {
    try {
      while (static_cast<int>(workers_) < count) {
        const uint64_t seen = generation_;                     // the job about to be published is new to it
        std::thread([this, seen] { worker(seen); }).detach();  // lives as long as the process
        ++workers_;
      }
    } catch (...) {  // no more threads: use the ones there are
      return workers_ > 0;
    }
    return true;
  }

  // Claims and runs items of job `gen` until none are left (or a newer job replaced it); returns
  // how many it ran.
  int64_t work(uint64_t gen) {
    int64_t ran = 0;
    uint64_t v = state_.load(std::memory_order_acquire);
    for (;;) {
      if ((v >> kIndexBits) != gen) return ran;
      const int64_t i = static_cast<int64_t>(v & kIndexMask);
      pause_for_test(PoolPoint::kHelperRead);
      // Acquire: if these are the next job's fields, its publisher's closing exchange (run) happened before the
      // claim below, which then fails.
      const int64_t n = n_.load(std::memory_order_acquire);
      const ParallelBody body = body_.load(std::memory_order_acquire);
      void* const ctx = ctx_.load(std::memory_order_acquire);
      if (i >= n) return ran;
      // The claim succeeds only while `gen` is still the job, so body, ctx and n were its own.
      if (!state_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      body(ctx, i);
      ++ran;
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n && caller_waiting_.load()) {
        std::lock_guard<std::mutex> lock(mu_);
        finished_.notify_all();
      }
      v = state_.load(std::memory_order_acquire);
    }
  }

  // One of at most threads - 1 helpers of job `gen`.
  bool take_ticket(uint64_t gen) {
    uint64_t t = tickets_.load();
    while ((t >> kIndexBits) == gen && (t & kIndexMask) > 0)
      if (tickets_.compare_exchange_weak(t, t - 1)) return true;
    return false;
  }

  void worker(uint64_t seen) {
    in_parallel = true;
    for (;;) {
      auto fresh = [&] { return (state_.load() >> kIndexBits) != seen; };
      if (!spin_until(fresh, kSpin)) {
        std::unique_lock<std::mutex> lock(mu_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, fresh);
        sleepers_.fetch_sub(1);
      }
      seen = state_.load() >> kIndexBits;
      if (take_ticket(seen)) work(seen);
    }
  }

  std::atomic<bool> busy_{false};
  uint64_t generation_ = 0;           // the caller's (under busy_)
  int workers_ = 0;                   // likewise
  std::atomic<uint64_t> state_{0};    // generation << kIndexBits | next item
  std::atomic<uint64_t> tickets_{0};  // generation << kIndexBits | helpers still wanted
  std::atomic<ParallelBody> body_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<int64_t> n_{0}, done_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_waiting_{false};
  std::mutex mu_;
  std::condition_variable wake_, finished_;
};

// A parallel region (run_region): every member thread runs the whole body; the parallel loops inside it share their
// items among the members through `state` and wait at their end until `done` counts every item of the loop. Loops
// are numbered from 1 in the order every member meets them (the body's control flow is the same on every thread), so
// a member that starts late skips loops other members finished and joins the loop in progress.
//
// A loop of at most kMaxOwnedItems items keeps a mask of the items taken instead of a next index, and each member
// first takes the items of its own share (member m of T: items [m n / T, (m + 1) n / T)), then any left. Batch-1
// convs cut each image into row bands, one per thread: with the shares, a thread's band of one conv reads mostly the
// rows its own band of the conv before wrote, in its own core's cache; taken first come, first served, the bands
// changed hands at about every other conv. ResNet-20 predict() at batch 1 on 2 threads: +3% and +7% (medians of two
// sets of 10 alternated pairs; docs/conv-kernels.md, "Session 16 (lead)").
struct Region {
  static constexpr int kIndexBits = 40;
  static constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1;
  static constexpr int64_t kMaxOwnedItems = kIndexBits;
  int threads = 1;
  ParallelBody body = nullptr;  // run_region's body and ctx
  void* ctx = nullptr;
  std::atomic<uint64_t> state{0};  // loop << kIndexBits | next item of that loop
  std::atomic<uint64_t> done{0};   // items done, over all loops so far
  std::atomic<bool> finished{false};
  std::atomic<int> sleepers{0};
  std::mutex mu;
  std::condition_variable wake;
  std::exception_ptr error;  // the first a member threw (under mu)
};

// This thread's place in the region it is a member of.
struct Member {
  Region* region = nullptr;
  int64_t id = 0;       // which of the region's pool items this member is: its share of each loop
  uint64_t loops = 0;   // loops met so far
  uint64_t target = 0;  // `done` once every item of those loops is done
  bool in_item = false;
  int64_t items = 0;  // items this member ran, and their time: how long it spins at a loop's end
  std::chrono::nanoseconds busy{0};
};
thread_local Member member;

// The item member `m` of `threads` takes next from `taken` (a loop's mask of taken items, n <= kMaxOwnedItems): the
// first free one of its share, else the first free one of all; -1 when every item is taken.
int64_t next_owned_item(uint64_t taken, int64_t n, int64_t m, int64_t threads) {
  const uint64_t free = ~taken & ((uint64_t{1} << n) - 1);
  if (free == 0) return -1;
  const int64_t begin = n * m / threads, end = n * (m + 1) / threads;
  const uint64_t share = ((uint64_t{1} << end) - 1) & ~((uint64_t{1} << begin) - 1);
  const uint64_t pick = (free & share) != 0 ? free & share : free;
  return __builtin_ctzll(pick);
}

// One loop of n items inside the member's region: claims items until none is left, then waits for the others'.
void region_loop(int64_t n, ParallelBody body, void* ctx) {
  Region& r = *member.region;
  const uint64_t k = ++member.loops;
  member.target += static_cast<uint64_t>(n);
  const bool owned = n <= Region::kMaxOwnedItems;  // the low bits of `state` are a mask of taken items, else a count
  uint64_t v = r.state.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t loop = v >> Region::kIndexBits;
    if (loop + 1 == k) {  // the first member here opens the loop (every member has finished the one before)
      r.state.compare_exchange_weak(v, k << Region::kIndexBits, std::memory_order_acq_rel, std::memory_order_acquire);
      continue;
    }
    if (loop != k) break;  // done
    int64_t item;
    uint64_t claimed;
    if (owned) {
      item = next_owned_item(v & Region::kIndexMask, n, member.id, r.threads);
      claimed = v | uint64_t{1} << (item < 0 ? 0 : item);
    } else {
      item = static_cast<int64_t>(v & Region::kIndexMask);
      if (item >= n) item = -1;
      claimed = v + 1;
    }
    if (item < 0) break;  // every item taken
    if (!r.state.compare_exchange_weak(v, claimed, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    const auto start = std::chrono::steady_clock::now();
    member.in_item = true;
    body(ctx, item);
    member.in_item = false;
    member.busy += std::chrono::steady_clock::now() - start;
    ++member.items;
    if (r.done.fetch_add(1) + 1 == member.target && r.sleepers.load() > 0) {
      std::lock_guard<std::mutex> lock(r.mu);
      r.wake.notify_all();
    }
    v = r.state.load(std::memory_order_acquire);
  }
  // Items another member is still on: spin about one of this member's items, then sleep.
  const auto all_done = [&] { return r.done.load(std::memory_order_acquire) >= member.target; };
  const auto per_item = member.items > 0 ? member.busy / member.items : kSpin;
  if (!spin_until(all_done, std::clamp<std::chrono::nanoseconds>(per_item, kSpin, kMaxCallerSpin))) {
    std::unique_lock<std::mutex> lock(r.mu);
    r.sleepers.fetch_add(1);
    r.wake.wait(lock, all_done);
    r.sleepers.fetch_sub(1);
  }
}

// One member's run of the region's body (pool item `id`); a member that starts after another finished does nothing.
void region_member(void* ctx, int64_t id) {
  Region& r = *static_cast<Region*>(ctx);
  if (r.finished.load(std::memory_order_acquire)) return;
  const Member outer = member;
  member = Member{};
  member.region = &r;
  member.id = id;
  try {
    r.body(r.ctx, 0);
    r.finished.store(true, std::memory_order_release);
  } catch (...) {  // the member stops; the others finish the loops (their items never wait on this one)
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.error) r.error = std::current_exception();
  }
  member = outer;
}

Pool& pool() {
  static Pool* pool = new Pool();  // never destroyed: its threads may still be waiting at exit
  return *pool;
}

}  // namespace

void run_parallel(int64_t n, int threads, ParallelBody body, void* ctx) {
  if (in_region()) {
    region_loop(n, body, ctx);
    return;
  }
  if (threads > 1 && n > 1 && static_cast<uint64_t>(n) < (uint64_t{1} << 40) && pool().run(n, threads, body, ctx))
    return;
  for (int64_t i = 0; i < n; ++i) body(ctx, i);
}

void run_region(int threads, ParallelBody body, void* ctx) {
  if (threads <= 1 && member.region == nullptr) {  // the loops inside run as they would outside a region
    body(ctx, 0);
    return;
  }
  Region r;
  r.threads = threads < 1 ? 1 : threads;
  r.body = body;
  r.ctx = ctx;
  // Inside another region or loop, or with the pool busy: this thread is the only member (same loops, same items).
  if (member.region != nullptr || !pool().run(r.threads, r.threads, region_member, &r)) region_member(&r, 0);
  if (r.error) std::rethrow_exception(r.error);
}

bool in_region() { return member.region != nullptr && !member.in_item; }
int region_threads() { return member.region != nullptr ? member.region->threads : 0; }

void set_spin_accounting(bool on) { count_spin.store(on, std::memory_order_relaxed); }
double spin_cpu_seconds() { return 1e-9 * static_cast<double>(spin_cpu_ns.load(std::memory_order_relaxed)); }
#else
void run_parallel(int64_t n, int, ParallelBody body, void* ctx) {
  for (int64_t i = 0; i < n; ++i) body(ctx, i);
}
void run_region(int, ParallelBody body, void* ctx) { body(ctx, 0); }
bool in_region() { return false; }
int region_threads() { return 0; }
void set_spin_accounting(bool) {}
double spin_cpu_seconds() { return 0; }
#endif

}  // namespace simdnet
