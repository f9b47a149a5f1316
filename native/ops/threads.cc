// SPDX-License-Identifier: MIT
// Thread count of the parallel ops: setNumThreads or SIMDNET_NUM_THREADS when given, else adaptive:
// one thread per physical core, less the CPUs other processes kept busy over the last 200 ms.
// A thread preempted by another process stalls every op at its join (a 2-core machine with one
// busy process trained LeNet 2.4x slower on 2 threads than on 1), so the count follows the CPUs
// actually free. Results never depend on the count.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
std::atomic<int> adaptive_count{0};  // 0 until the first use

#ifdef __linux__
// CPU seconds all CPUs and this process have been busy, at a wall time; ok false when unreadable.
struct CpuSample {
  double wall = 0, busy_all = 0, busy_self = 0;
  int cpus = 0;
  bool ok = false;
};

double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); }

CpuSample sample_cpu() {
  CpuSample s;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  s.wall = static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return s;
  char line[512];
  unsigned long long v[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // user nice system idle iowait irq softirq steal
  bool total = false;
  while (std::fgets(line, sizeof line, f) != nullptr && std::strncmp(line, "cpu", 3) == 0) {
    if (line[3] == ' ')
      total = std::sscanf(line + 3, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                          &v[6], &v[7]) >= 4;
    else
      ++s.cpus;
  }
  std::fclose(f);
  const long ticks = sysconf(_SC_CLK_TCK);
  if (!total || s.cpus == 0 || ticks <= 0) return s;
  s.busy_all = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / static_cast<double>(ticks);
  rusage self{};
  if (getrusage(RUSAGE_SELF, &self) != 0) return s;
  s.busy_self = seconds(self.ru_utime) + seconds(self.ru_stime);
  s.ok = true;
  return s;
}

// The new count from the CPUs left free over a window: with a band around each step, so a
// neighbour using half a CPU does not make the count flap.
int next_count(int current, int max, double free_cpus) {
  const int up = static_cast<int>(std::floor(free_cpus + 0.4)), down = static_cast<int>(std::floor(free_cpus + 0.6));
  int n = current;
  if (up > current) n = up;
  if (down < current) n = down;
  return n < 1 ? 1 : (n > max ? max : n);
}

std::atomic<bool> sampling{false};
CpuSample last;  // guarded by `sampling`
std::atomic<double> next_sample_at{0.0};

int adaptive_threads() {
  constexpr double kWindow = 0.2;  // seconds
  const int max = default_num_threads();
  int n = adaptive_count.load(std::memory_order_relaxed);
  if (n == 0) n = max;
  if (max == 1) return 1;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const double t = static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
  if (t < next_sample_at.load(std::memory_order_relaxed) || sampling.exchange(true)) return n;
  const CpuSample s = sample_cpu();
  if (!s.ok) {
    next_sample_at.store(t + 1e9);  // no /proc/stat: stay at one thread per core
  } else {
    if (last.ok && s.wall - last.wall >= 0.5 * kWindow) {
      const double others = (s.busy_all - last.busy_all - (s.busy_self - last.busy_self)) / (s.wall - last.wall);
      n = next_count(n, max, static_cast<double>(s.cpus) - (others > 0 ? others : 0));
    }
    last = s;
    next_sample_at.store(t + kWindow);
  }
  adaptive_count.store(n);
  sampling.store(false);
  return n;
}
#else
int adaptive_threads() { return default_num_threads(); }
#endif

}  // namespace

int default_num_threads() {
  static const int cores = physical_cores();
  return cores;
}

void set_num_threads(int n) { fixed_threads.store(n < 1 ? 0 : n); }

bool num_threads_adaptive() {
  num_threads();
  return fixed_threads.load() == 0;
}

int num_threads() {
  int n = fixed_threads.load(std::memory_order_relaxed);
  if (n < 0) {
    n = initial_fixed();
    fixed_threads.store(n);
  }
  return n > 0 ? n : adaptive_threads();
}

}  // namespace simdnet
