// SPDX-License-Identifier: MIT
// FMA peak probe for bench/: times independent fp32 FMA chains on 1..T threads and prints one JSON line (no simdnet code).
//
// Build: g++ -O2 -std=c++17 -pthread fma_peak.cc -o fma_peak   Run: fma_peak [max_threads] [seconds_per_run]
// Each ISA body has its own target attribute and runs only if the CPU reports that ISA, so one plain
// -O2 build is safe anywhere. Every chain does x = x * m + a (2 flops per lane), converging to 1.0:
// no overflow, no denormals. 16 chains hide the FMA latency (4-5 cycles) on two FMA pipes.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SN_X86 1
#endif

namespace {

constexpr int kChains = 16;

#define SN_CHAINS(VEC, SET1, FMA, LANES)                                          \
  VEC m = SET1(0.999999f), a = SET1(1e-6f), x[kChains];                           \
  for (int c = 0; c < kChains; c++) x[c] = SET1(0.5f + 0.01f * c);                \
  for (long i = 0; i < iters; i++) {                                              \
    _Pragma("GCC unroll 16") for (int c = 0; c < kChains; c++) x[c] = FMA(x[c], m, a); \
  }                                                                               \
  float lanes[LANES], sum = 0;                                                    \
  for (int c = 0; c < kChains; c++) {                                             \
    std::memcpy(lanes, &x[c], sizeof lanes);                                      \
    for (float v : lanes) sum += v;                                               \
  }                                                                               \
  return sum;


#ifdef SN_X86
__attribute__((target("avx512f"))) float chains_avx512(long iters) { SN_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, 16) }
__attribute__((target("avx2,fma"))) float chains_avx2(long iters) { SN_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, 8) }
#endif

typedef float v4f __attribute__((vector_size(16)));
inline v4f set1_v4(float f) { return v4f{f, f, f, f}; }
inline v4f fma_v4(v4f x, v4f m, v4f a) { return x * m + a; }  // NEON/SSE; fused only where the ISA has FMA
float chains_generic(long iters) { SN_CHAINS(v4f, set1_v4, fma_v4, 4) }

struct Isa {
  const char* name;
  float (*fn)(long);
  int lanes;
};

Isa pick_isa() {
#ifdef SN_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512f", chains_avx512, 16};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"avx2+fma", chains_avx2, 8};
#endif
  return {"generic-128", chains_generic, 4};
}

volatile float g_sink;

// Wall time of `threads` threads each running `iters` iterations.
double run_seconds(const Isa& isa, int threads, long iters) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++) pool.emplace_back([&] { g_sink = isa.fn(iters); });
  for (auto& th : pool) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int max_threads = argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::thread::hardware_concurrency());
  double seconds = argc > 2 ? std::atof(argv[2]) : 0.3;
  if (max_threads < 1) max_threads = 1;
  Isa isa = pick_isa();
  // Calibrate: iterations for about `seconds` on one thread.
  long iters = 1 << 20;
  double t = run_seconds(isa, 1, iters);
  iters = static_cast<long>(iters * seconds / (t > 1e-6 ? t : 1e-6));
  std::string out = std::string("{\"isa\":\"") + isa.name + "\",\"chains\":" + std::to_string(kChains) + ",\"results\":[";
  for (int threads = 1; threads <= max_threads; threads++) {
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
      double s = run_seconds(isa, threads, iters);
      if (s < best) best = s;
    }
    double flops = 2.0 * isa.lanes * kChains * static_cast<double>(iters) * threads;
    char item[96];
    std::snprintf(item, sizeof item, "%s{\"threads\":%d,\"gflops\":%.2f}", threads > 1 ? "," : "", threads, flops / best / 1e9);
    out += item;
  }
  std::printf("%s]}\n", out.c_str());
  return 0;
}
