// SPDX-License-Identifier: MIT
// Thread count of the parallel ops: setNumThreads or SIMDNET_NUM_THREADS when given, else 'auto':
// one thread per physical core while the machine is quiet; while other processes keep CPUs busy,
// short trials of all cores against one thread decide (thread_trials.h has the rule and why), in
// training steps per second when the process marks its steps (mark_step), else in CPU time.
// Results never depend on the count.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#ifdef __linux__
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#endif

#include "ops.h"
#include "parallel.h"
#include "thread_trials.h"

namespace simdnet {
namespace {

// Physical cores from Linux sysfs (package, core) pairs; hardware_concurrency elsewhere.
int physical_cores() {
  std::set<std::pair<int, int>> cores;
#ifdef __linux__  // not under Emscripten, whose build has no file system
  for (int cpu = 0; cpu < 4096; ++cpu) {
    char path[128];
    int package = 0, core = 0;
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) break;
    const bool ok = std::fscanf(f, "%d", &core) == 1;
    std::fclose(f);
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
    if ((f = std::fopen(path, "r")) != nullptr) {
      if (std::fscanf(f, "%d", &package) != 1) package = 0;
      std::fclose(f);
    }
    if (ok) cores.insert({package, core});
  }
#endif
  if (!cores.empty()) return static_cast<int>(cores.size());
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// SIMDNET_NUM_THREADS when set to a count, else 0 (adaptive).
int initial_fixed() {
  const char* env = std::getenv("SIMDNET_NUM_THREADS");
  const int n = env != nullptr ? std::atoi(env) : 0;
  return n >= 1 ? n : 0;
}

std::atomic<int> fixed_threads{-1};  // -1 until first use, 0 adaptive, else the count

#ifdef __linux__
std::atomic<int> adaptive_count{0};  // 0 until the first use

double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); }

double monotonic_seconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

std::atomic<int64_t> steps_marked{0};  // mark_step calls so far

// All CPUs' busy time (/proc/stat), this process's CPU time, the pool's spinning and the steps
// marked; false when /proc/stat cannot be read.
bool sample_cpu(CpuTimes* s, bool at_step) {
  s->wall = monotonic_seconds();
  s->steps = static_cast<double>(steps_marked.load(std::memory_order_relaxed));
  s->at_step = at_step;
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return false;
  char line[512];
  unsigned long long v[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // user nice system idle iowait irq softirq steal
  const bool total = std::fgets(line, sizeof line, f) != nullptr && std::strncmp(line, "cpu ", 4) == 0 &&
                     std::sscanf(line + 3, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                                 &v[5], &v[6], &v[7]) >= 4;
  std::fclose(f);
  const long ticks = sysconf(_SC_CLK_TCK);
  if (!total || ticks <= 0) return false;
  s->busy_all = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / static_cast<double>(ticks);
  rusage self{};
  if (getrusage(RUSAGE_SELF, &self) != 0) return false;
  s->busy_self = seconds(self.ru_utime) + seconds(self.ru_stime);
  s->spin = spin_cpu_seconds();
  return true;
}

// SIMDNET_THREADS_TRACE=1: each trial's rates and outcome on stderr (docs/threads.md).
bool trace_trials() {
  static const bool on = std::getenv("SIMDNET_THREADS_TRACE") != nullptr;
  return on;
}

std::mutex trials_mu;
ThreadTrials* trials = nullptr;           // guarded by trials_mu; created on first use
std::atomic<double> next_sample_at{0.0};  // no sample at an op's start before this (checked without the lock)
std::atomic<double> next_mark_at{0.0};    // none at a step's end before this
bool trials_off = false;                  // guarded by trials_mu: /proc/stat unreadable, so every core
double first_sample = -1;                 // guarded by trials_mu: the first sample's time (for the trace)

// Feeds one sample to the trials (at an op's start, or as a step ends) and returns the count to use.
int sample_trials(int max, int n, bool at_step) {
  std::unique_lock<std::mutex> lock(trials_mu, std::try_to_lock);
  if (!lock.owns_lock() || trials_off) return n;
  if (trials == nullptr) trials = new ThreadTrials(max);  // never freed: lives as long as the process
  CpuTimes s;
  if (!sample_cpu(&s, at_step)) {
    trials_off = true;
    n = max;
  } else {
    const int ended = trials->trials_ended();
    if (first_sample < 0) first_sample = s.wall;
    n = trials->step(s);
    if (trials->trials_ended() != ended && trace_trials()) {
      const int kept = trials->last_trial_kept();
      std::fprintf(stderr, "simdnet threads: trial at %.2f s: %d threads %.3f, %d threads %.3f %s: %d\n",
                   s.wall - first_sample, kept, trials->last_kept(), kept == 1 ? max : 1, trials->last_challenger(),
                   trials->last_by_steps() ? "steps/s" : "useful CPU-s/s", n);
    }
    set_spin_accounting(trials->measuring());
    // While a trial counts steps, a window ends only as a step ends; op starts just look for an idle process.
    next_sample_at.store(trials->by_steps() ? trials->poll_at() : trials->next_at());
    next_mark_at.store(trials->next_at());
  }
  adaptive_count.store(n);
  return n;
}

// Checked when an op starts, so an idle process does nothing.
int adaptive_threads() {
  const int max = default_num_threads();
  const int n = adaptive_count.load(std::memory_order_relaxed);
  if (max == 1) return 1;
  if (monotonic_seconds() < next_sample_at.load(std::memory_order_relaxed)) return n == 0 ? max : n;
  return sample_trials(max, n == 0 ? max : n, false);
}

void adaptive_step_marked() {
  const int max = default_num_threads();
  if (max == 1 || monotonic_seconds() < next_mark_at.load(std::memory_order_relaxed)) return;
  const int n = adaptive_count.load(std::memory_order_relaxed);
  sample_trials(max, n == 0 ? max : n, true);
}
#else
int adaptive_threads() { return default_num_threads(); }
void adaptive_step_marked() {}
#endif

}  // namespace

int default_num_threads() {
  static const int cores = physical_cores();
  return cores;
}

void set_num_threads(int n) { fixed_threads.store(n < 1 ? 0 : n); }

void mark_step() {
#ifdef __linux__
  steps_marked.fetch_add(1, std::memory_order_relaxed);
#endif
  if (num_threads_adaptive()) adaptive_step_marked();
}

bool num_threads_adaptive() {
  num_threads();
  return fixed_threads.load() == 0;
}

namespace {
thread_local bool serial = false;  // inside a SerialScope
}  // namespace

SerialScope::SerialScope() : outer_(serial) { serial = true; }
SerialScope::~SerialScope() { serial = outer_; }

int num_threads() {
  if (serial) return 1;
  if (const int r = region_threads(); r > 0) return r;  // fixed for a region's whole run
  int n = fixed_threads.load(std::memory_order_relaxed);
  if (n < 0) {
    n = initial_fixed();
    fixed_threads.store(n);
  }
  return n > 0 ? n : adaptive_threads();
}

}  // namespace simdnet
