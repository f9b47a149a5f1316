// SPDX-License-Identifier: MIT
// Thread count of the parallel ops: SIMDNET_NUM_THREADS, else one thread per physical core.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>
#include <utility>

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

int initial_threads() {
  const char* env = std::getenv("SIMDNET_NUM_THREADS");
  if (env != nullptr) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return default_num_threads();
}

std::atomic<int> threads{0};  // 0 until first use

}  // namespace

int default_num_threads() {
  static const int cores = physical_cores();
  return cores;
}

void set_num_threads(int n) { threads.store(n < 1 ? 1 : n); }

int num_threads() {
  int n = threads.load();
  if (n == 0) {
    n = initial_threads();
    threads.store(n);
  }
  return n;
}

}  // namespace simdnet
